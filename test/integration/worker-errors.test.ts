import { type ChildProcess, spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import { tradeRecord } from '../../internal/log/record.js';
import type { Trade } from '../../internal/market/trade.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { freePort } from '../harness/private-servers.js';
import {
  caughtUp,
  committedOffsets,
  createTradeTopics,
  replayWorkerArgv,
  simulatedTrades,
} from '../harness/worker-tables.js';

/*
 * The worker's error rule against the real servers (internal/worker/error-rule.ts): a record
 * PostgreSQL cannot store goes to the rejected topic and the partition goes on; PostgreSQL out of
 * disk (SQLSTATE 53100, raised for real by a trigger on the checkpoint table of the test's own
 * schema) is retried while /readyz says so, and the partition recovers once the trigger is gone;
 * an error that is neither (a trigger raising P0001) fails the partition and the process exits 1.
 */

const WAIT_MS = 120_000;

describe('worker error rule against real Kafka and PostgreSQL', () => {
  const topic = freshName('trades-errors');
  const schema = freshName('errors').replace(/-/g, '_');
  let kafka: Kafka;
  let db: pg.Client;
  let trades: Trade[];
  let child: ChildProcess | undefined;
  let port: number;
  let output = '';
  let exited: Promise<number | null>;

  const produce = async (batch: readonly Trade[]) => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      messages: batch.map((t) => {
        const r = tradeRecord(t);
        return { key: r.key, value: Buffer.from(r.value), headers: { ...r.headers } };
      }),
    });
    await producer.disconnect();
  };
  const endOffsets = async (): Promise<Map<number, bigint>> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
    } finally {
      await admin.disconnect();
    }
  };
  const probe = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, text: await res.text() };
  };
  const metric = async (name: string, label: string) => {
    const text = (await probe('/metrics')).text;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const caughtUpToEnd = async () => caughtUp(db, schema, topic, await endOffsets());

  beforeAll(async () => {
    kafka = new Kafka({
      clientId: 'worker-errors-test',
      brokers: endpoint('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    await createTradeTopics(kafka, topic, 1);
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await db.connect();
    trades = await simulatedTrades({
      count: 3_000,
      prefix: 'E',
      seed: 17,
      startTime: Date.UTC(2024, 0, 1),
      ratePerSecond: 20,
    });
    port = await freePort();
    child = spawn(process.execPath, replayWorkerArgv(topic, schema, port), {
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    exited = new Promise((resolve) => child?.once('exit', (code) => resolve(code)));
    await eventually(
      'the worker to run',
      async () => (output.includes('"worker running"') ? true : undefined),
      WAIT_MS,
      100,
    );
  }, 180_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await db?.end();
  });

  it('a trade PostgreSQL cannot store goes to the rejected topic and the partition goes on', async () => {
    const first = trades.slice(0, 1_000);
    const bad = { ...(first[500] as Trade), tradeId: 'bad\u0000id' };
    await produce([...first.slice(0, 501), bad, ...first.slice(501)]);
    await eventually('the partition to pass the bad record', caughtUpToEnd, WAIT_MS, 100);
    expect((await probe('/readyz')).status).toBe(200);

    // Read the rejected topic by assignment (no consumer group to join).
    const consumer = await createKafkaConsumer({
      brokers: endpoint('KAFKA_BROKERS').split(','),
      clientId: 'worker-errors-test-reader',
      logger: silentLogger(),
      topic: `${topic}.rejected`,
    });
    await consumer.assign(0, 0n);
    const reasons: string[] = [];
    const reading = AbortSignal.timeout(60_000);
    for await (const batch of consumer.batches(reading)) {
      for (const r of batch.records) reasons.push(String(r.headers['tm-reject-reason']));
      if (reasons.length > 0) break;
    }
    await consumer.close();
    // The record decoder refuses the non-printable id (a data error) before it could reach a commit.
    expect(reasons).toEqual(['bad-trade-id']);
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM "${schema}".candles WHERE position('bad' in last_trade_id) > 0 OR position('bad' in first_trade_id) > 0`,
    );
    expect(rows[0].n).toBe(0);
  }, 180_000);

  it('PostgreSQL out of disk (53100) is retried while /readyz says so; the partition recovers when it is back', async () => {
    await db.query(`
      CREATE FUNCTION "${schema}".disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$;
      CREATE TRIGGER disk_full BEFORE UPDATE ON "${schema}".checkpoints
        FOR EACH ROW EXECUTE FUNCTION "${schema}".disk_full();`);
    const before = (await committedOffsets(db, schema, topic)).get(0);
    await produce(trades.slice(1_000, 2_000));
    const ready = await eventually(
      '/readyz to say the partition cannot commit',
      async () => {
        const r = await probe('/readyz');
        return r.status === 503 ? r.text : undefined;
      },
      WAIT_MS,
      100,
    );
    expect(ready).toMatch(/partition 0 cannot commit: .*53100/);
    expect(await metric('tickmesh_worker_commit_errors_total', 'code="53100"')).toBeGreaterThan(0);
    expect((await probe('/healthz')).status).toBe(200);
    expect((await committedOffsets(db, schema, topic)).get(0)).toBe(before);

    await db.query(`DROP TRIGGER disk_full ON "${schema}".checkpoints`);
    await eventually('the partition to catch up once the disk is back', caughtUpToEnd, WAIT_MS, 100);
    await eventually(
      '/readyz to be ready again',
      async () => ((await probe('/readyz')).status === 200 ? true : undefined),
      WAIT_MS,
      100,
    );
    expect(child?.exitCode).toBeNull();
  }, 180_000);

  it('an error that is neither data nor retriable fails the partition and the process exits 1', async () => {
    await db.query(`
      CREATE FUNCTION "${schema}".broken() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'checkpoint table is broken'; END $$;
      CREATE TRIGGER broken BEFORE UPDATE ON "${schema}".checkpoints
        FOR EACH ROW EXECUTE FUNCTION "${schema}".broken();`);
    await produce(trades.slice(2_000));
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 60_000))]);
    expect(code).toBe(1);
    expect(output).toMatch(/"partition":0[^\n]*"msg":"partition failed"|"msg":"partition failed"[^\n]*"partition":0/);
    expect(output).toContain('P0001');
  }, 120_000);
});
