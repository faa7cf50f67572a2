import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordsByMarket } from '../../internal/log/trade-batch.js';
import type { Trade } from '../../internal/market/trade.js';
import {
  type ArchiverProcess,
  archiveTradeLines,
  parquetFiles,
  startArchiver,
  topicTradeLines,
} from '../harness/archive.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { createTradeTopics, realThenSimulatedTrades } from '../harness/worker-tables.js';

const PARTITIONS = 3;
const ROUNDS = 8;

/** Produces `trades` as ingest does: trade-batch records of up to 50 trades of one market. */
async function produce(producer: Producer, topic: string, trades: readonly Trade[]): Promise<void> {
  for (let i = 0; i < trades.length; i += 2_000) {
    const records = [];
    const chunk = trades.slice(i, i + 2_000);
    for (let j = 0; j < chunk.length; j += 50) records.push(...recordsByMarket(chunk.slice(j, j + 50)));
    await producer.send({
      topic,
      messages: records.map((r) => ({ key: r.key, value: Buffer.from(r.value), headers: { ...r.headers } })),
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function s3Client(): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: endpoint('S3_ENDPOINT'),
    forcePathStyle: true,
    credentials: { accessKeyId: endpoint('S3_ACCESS_KEY'), secretAccessKey: endpoint('S3_SECRET_KEY') },
  });
}

/** Every object under `prefix`, copied into `dir` by key, for DuckDB to read; the key list. */
async function download(s3: S3Client, bucket: string, prefix: string, dir: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  await rm(dir, { recursive: true, force: true });
  for (const key of keys) {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToByteArray();
    const path = join(dir, key.slice(prefix.length));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body ?? new Uint8Array());
  }
  return keys;
}

async function killWhenFilesGrow(a: ArchiverProcess, dir: string, timeoutMs: number): Promise<void> {
  const before = (await parquetFiles(dir)).length;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && (await parquetFiles(dir)).length === before) await sleep(5);
  a.child.kill('SIGKILL');
  await a.exited;
}

describe('tickmesh archive: the trades topic as Hive-partitioned Parquet, exactly once', () => {
  const kafka = new Kafka({
    clientId: 'archive-test',
    brokers: endpoint('KAFKA_BROKERS').split(','),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  let trades: Trade[];
  let work: string;

  beforeAll(async () => {
    const { real, sim } = await realThenSimulatedTrades({ count: 20_000, prefix: 'A', seed: 7 });
    trades = [...real, ...sim];
    await producer.connect();
    work = await mkdtemp(join(tmpdir(), 'tickmesh-archive-test-'));
  }, 120_000);

  afterAll(async () => {
    await producer.disconnect();
    await rm(work, { recursive: true, force: true });
  });

  it('holds exactly the topic trades, row for row, after SIGKILLs mid-window', async () => {
    const topic = freshName('archive');
    await createTradeTopics(kafka, topic, PARTITIONS);
    const dir = join(work, 'local');
    const args = ['--dir', dir, '--trades-topic', topic, '--roll-seconds', '2', '--grace-seconds', '1'];
    let archiver = startArchiver(args);
    const per = Math.ceil(trades.length / ROUNDS);
    let kills = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await produce(producer, topic, trades.slice(round * per, (round + 1) * per));
      if (round % 2 === 1) {
        // Killed as soon as a file of a window appears: most windows have several files, so the
        // kill lands between the files of one window as well as before a window closed.
        await killWhenFilesGrow(archiver, dir, 8_000);
        kills++;
        archiver = startArchiver(args);
      } else {
        await sleep(700);
      }
    }
    expect(kills).toBeGreaterThanOrEqual(3);
    const expected = await topicTradeLines(kafka, topic);
    expect(expected.length).toBe(trades.length);
    await eventually(
      'the archive to hold every trade',
      async () => ((await archiveTradeLines(dir)).length >= expected.length ? true : undefined),
      90_000,
      1_000,
    );
    archiver.child.kill('SIGTERM');
    expect(await archiver.exited, archiver.output().slice(-3000)).toBe(0);
    const archived = await archiveTradeLines(dir);
    expect(archived.length).toBe(expected.length);
    expect(archived).toEqual(expected);
    const files = await parquetFiles(dir);
    for (const f of files) {
      expect(f).toMatch(
        /^exchange=[^/]+\/symbol=[^/]+\/date=\d{4}-\d\d-\d\d\/hour=\d\d\/part-\d+-\d{20}-\d{20}\.parquet$/,
      );
    }
  }, 300_000);

  it('writes to an S3-compatible server the same, across a SIGKILL', async () => {
    const topic = freshName('archive-s3');
    await createTradeTopics(kafka, topic, PARTITIONS);
    const s3 = s3Client();
    const bucket = freshName('archive');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const secrets = join(work, 's3-secrets');
    await mkdir(secrets, { recursive: true });
    await writeFile(join(secrets, 'access'), `${endpoint('S3_ACCESS_KEY')}\n`);
    await writeFile(join(secrets, 'secret'), `${endpoint('S3_SECRET_KEY')}\n`);
    const args = [
      ...['--s3-bucket', bucket, '--s3-prefix', 'trades', '--s3-endpoint', endpoint('S3_ENDPOINT')],
      ...['--s3-access-key-file', join(secrets, 'access'), '--s3-secret-key-file', join(secrets, 'secret')],
      ...['--trades-topic', topic, '--roll-seconds', '2', '--grace-seconds', '1'],
    ];
    const half = Math.floor(trades.length / 2);
    let archiver = startArchiver(args);
    await produce(producer, topic, trades.slice(0, half));
    const copy = join(work, 's3-copy');
    await eventually(
      'a first object',
      async () => ((await download(s3, bucket, 'trades/', copy)).length > 0 ? true : undefined),
      60_000,
      200,
    );
    archiver.child.kill('SIGKILL');
    await archiver.exited;
    archiver = startArchiver(args);
    await produce(producer, topic, trades.slice(half));
    const expected = await topicTradeLines(kafka, topic);
    await eventually(
      'the bucket to hold every trade',
      async () => {
        await download(s3, bucket, 'trades/', copy);
        return (await archiveTradeLines(copy)).length >= expected.length ? true : undefined;
      },
      90_000,
      1_000,
    );
    archiver.child.kill('SIGTERM');
    expect(await archiver.exited, archiver.output().slice(-3000)).toBe(0);
    const keys = await download(s3, bucket, 'trades/', copy);
    expect(keys.every((k) => k.startsWith('trades/exchange=') && k.endsWith('.parquet'))).toBe(true);
    expect(await archiveTradeLines(copy)).toEqual(expected);
    s3.destroy();
  }, 300_000);
});
