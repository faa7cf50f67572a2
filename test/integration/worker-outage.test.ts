import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tradeRecord } from '../../internal/log/record.js';
import type { Trade } from '../../internal/market/trade.js';
import { eventually } from '../harness/eventually.js';
import { freePort, type PrivateServers, type ServerName, startPrivateServers } from '../harness/private-servers.js';
import {
  alertTable as alertRows,
  candleTable as candleRows,
  caughtUp as caughtUpTo,
  committedOffsets,
  createTradeTopics,
  replayWorkerArgv,
  simulatedTrades,
} from '../harness/worker-tables.js';
import { loadRealTrades } from '../support/real-trades.js';

/*
 * Outages: PostgreSQL, NATS, Redis and the Kafka broker are each stopped and restarted (by the
 * harness scripts, on the same port, with their data) while a worker process runs; the worker
 * must stay up, stop making progress while a server it needs is gone, say so on /readyz, pick up
 * when the server returns, and leave the candle table equal, row for row, to a run without
 * outages. The servers are a private set (test/harness/private-servers.ts): stopping the shared
 * ones would break whatever else runs against them at the same time.
 */

const PARTITIONS = 4;
/** Simulated trades appended per phase: before the outages, during each one, after the last. */
const CHUNK = 40_000;
const CHUNKS = 6;
const WAIT_MS = 240_000;
/** Longer than kafkajs's own retries (5, about 10 s in all) last. */
const KAFKA_DOWN_MS = 20_000;
const GARBAGE_COUNT = 3;

type KafkaMessage = { key: string; value: Buffer; headers?: Record<string, string> };

function messages(trades: readonly Trade[]): KafkaMessage[] {
  return trades.map((t) => {
    const r = tradeRecord(t);
    return { key: r.key, value: Buffer.from(r.value), headers: { ...r.headers } };
  });
}

const GARBAGE: KafkaMessage = { key: 'binance-futures:BTCUSDT', value: Buffer.from('garbage') };

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<number | null>;
  /** True until the process exits. */
  alive(): boolean;
}

async function startWorker(
  env: Readonly<Record<string, string>>,
  topic: string,
  schema: string,
  log: WriteStream,
  spawned: WorkerProcess[],
): Promise<WorkerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, replayWorkerArgv(topic, schema, port), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let alive = true;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      alive = false;
      resolve(code);
    }),
  );
  const w = { child, port, exited, alive: () => alive };
  spawned.push(w);
  await eventually(
    'the worker to be ready',
    async () => {
      if (!alive) throw new Error(`worker exited with ${await exited} before it was ready (log: ${log.path})`);
      return (await readyz(w)).status === 200 ? true : undefined;
    },
    WAIT_MS,
    100,
  );
  return w;
}

async function readyz(w: WorkerProcess): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${w.port}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, text: await res.text() };
}

/** The sum of a metric's samples over all label sets. */
async function metric(w: WorkerProcess, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${w.port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  let sum = 0;
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('worker outages against real PostgreSQL, NATS, Redis and Kafka', () => {
  const topic = 'trades.outage';
  const reference = 'outage_ref';
  const restarted = 'outage_run';
  let servers: PrivateServers | undefined;
  let db: pg.Pool;
  let kafka: Kafka;
  let chunks: KafkaMessage[][];
  let log: WriteStream;
  let passed = false;
  const workers: WorkerProcess[] = [];

  async function produce(batch: readonly KafkaMessage[]): Promise<void> {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < batch.length; i += 5_000) await producer.send({ topic, messages: batch.slice(i, i + 5_000) });
    await producer.disconnect();
  }

  async function endOffsets(name = topic): Promise<Map<number, bigint>> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(name);
      return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    } finally {
      await admin.disconnect();
    }
  }

  const committed = (schema: string) => committedOffsets(db, schema, topic);
  const caughtUp = (schema: string, ends: Map<number, bigint>) => caughtUpTo(db, schema, topic, ends);
  const candleTable = (schema: string) => candleRows(db, schema);
  const alertTable = (schema: string) => alertRows(db, schema);

  beforeAll(async () => {
    servers = await startPrivateServers(['postgres', 'redis', 'nats', 'kafka']);
    log = createWriteStream(join(servers.dir, 'logs', 'workers.log'));
    kafka = new Kafka({
      clientId: 'worker-outage-test',
      brokers: (servers.env.KAFKA_BROKERS as string).split(','),
      logLevel: logLevel.NOTHING,
    });
    await createTradeTopics(kafka, topic, PARTITIONS);
    const sim = await simulatedTrades({
      count: CHUNK * CHUNKS,
      prefix: 'O',
      seed: 17,
      startTime: Date.UTC(2024, 2, 1),
      ratePerSecond: 5,
    });
    chunks = Array.from({ length: CHUNKS }, (_, i) => messages(sim.slice(i * CHUNK, (i + 1) * CHUNK)));
    chunks[0] = [...messages(await loadRealTrades()), ...(chunks[0] as KafkaMessage[])];
    // Undecodable records: the worker's producer puts them on the rejected topic during the
    // PostgreSQL outage, around the broker's own outage and after it.
    for (const i of [1, 4, 5]) (chunks[i] as KafkaMessage[]).push(GARBAGE);
    db = new pg.Pool({ connectionString: servers.env.DATABASE_URL, max: 2 });
    // The test's own idle connections see the PostgreSQL restart too.
    db.on('error', () => {});
  }, 600_000);

  afterAll(async () => {
    for (const w of workers) if (w.alive()) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await db?.end().catch(() => {});
    log?.end();
    // TICKMESH_KEEP_LOGS=1 keeps them after a pass too.
    const keep = !passed || process.env.TICKMESH_KEEP_LOGS === '1';
    if (keep && servers) console.error(`worker-outage: servers' and workers' logs kept in ${servers.dir}/logs`);
    await servers?.close(keep);
  }, 300_000);

  it('stops, reports and resumes through restarts of each server, losing and duplicating nothing', async () => {
    const env = servers?.env as Record<string, string>;
    const run = servers as PrivateServers;
    const w = await startWorker(env, topic, restarted, log, workers);
    const timings: Array<Record<string, string | number>> = [];
    const sum = (m: Map<number, bigint>) => [...m.values()].reduce((a, b) => a + b, 0n);

    await produce(chunks[0] as KafkaMessage[]);
    await eventually(
      'the first chunk to be committed',
      async () => caughtUp(restarted, await endOffsets()),
      WAIT_MS,
      100,
    );

    // PostgreSQL, NATS and Redis: stopped while the worker reads the first half of a chunk; the
    // second half arrives during the outage. The worker reads on until its mailboxes are full,
    // but it cannot store its outputs or commit a checkpoint.
    const outages: Array<{ server: ServerName; chunk: number; reason: RegExp }> = [
      { server: 'postgres', chunk: 1, reason: /cannot commit.*postgres unavailable/ },
      { server: 'nats', chunk: 2, reason: /cannot commit.*bus output not stored.*nats unavailable/ },
      { server: 'redis', chunk: 3, reason: /cannot commit.*cache output not stored.*redis unavailable/ },
    ];
    for (const { server, chunk, reason } of outages) {
      const records = chunks[chunk] as KafkaMessage[];
      const half = Math.floor(records.length / 2);
      await produce(records.slice(0, half));
      const stopMs = await run.run(server, 'stop');
      const stoppedAt = performance.now();
      await produce(records.slice(half));
      const ends = await endOffsets();
      const notReady = await eventually(
        `/readyz to report the ${server} outage`,
        async () => {
          const r = await readyz(w);
          return r.status === 503 ? r.text : undefined;
        },
        WAIT_MS,
        100,
      );
      const detectedMs = performance.now() - stoppedAt;
      expect(notReady).toMatch(reason);
      // No checkpoint completes while the server is gone.
      const checkpoints = await metric(w, 'tickmesh_worker_checkpoint_seconds_count');
      const at = server === 'postgres' ? undefined : await committed(restarted);
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await metric(w, 'tickmesh_worker_checkpoint_seconds_count')).toBe(checkpoints);
      expect((await readyz(w)).status).toBe(503);
      const paused = await metric(w, 'tickmesh_worker_partition_paused');
      if (server === 'postgres') {
        expect(await metric(w, 'tickmesh_worker_commit_errors_total')).toBeGreaterThan(0);
      } else {
        expect(await committed(restarted)).toEqual(at);
        expect(await caughtUp(restarted, ends)).toBeUndefined();
        expect(await metric(w, 'tickmesh_worker_output_errors_total')).toBeGreaterThan(0);
      }

      const startMs = await run.run(server, 'start');
      const startedAt = performance.now();
      await eventually(
        `/readyz to recover after ${server} returned`,
        async () => ((await readyz(w)).status === 200 ? true : undefined),
        WAIT_MS,
        100,
      );
      const readyMs = performance.now() - startedAt;
      await eventually(
        `the worker to commit everything after ${server} returned`,
        () => caughtUp(restarted, ends),
        WAIT_MS,
        100,
      );
      const caughtUpMs = performance.now() - startedAt;
      expect(w.alive()).toBe(true);
      timings.push({ server, stopMs, detectedMs, pausedPartitions: paused, startMs, readyMs, caughtUpMs });
    }

    // Kafka: stopped while the worker reads a chunk (whose last record the worker's own producer
    // must put on the rejected topic), and kept down longer than kafkajs's own retries last; more
    // records arrive after its restart.
    {
      await produce(chunks[4] as KafkaMessage[]);
      const ends4 = await endOffsets();
      const stopMs = await run.run('kafka', 'stop');
      const stoppedAt = performance.now();
      await new Promise((r) => setTimeout(r, KAFKA_DOWN_MS));
      const duringOutage = await readyz(w);
      const committedDuring = sum(await committed(restarted));
      expect(w.alive()).toBe(true);
      const startMs = await run.run('kafka', 'start');
      const startedAt = performance.now();
      await produce(chunks[5] as KafkaMessage[]);
      const ends = await endOffsets();
      await eventually(
        'the worker to commit everything after Kafka returned',
        () => caughtUp(restarted, ends),
        WAIT_MS,
        100,
      );
      const caughtUpMs = performance.now() - startedAt;
      expect((await readyz(w)).status).toBe(200);
      expect(w.alive()).toBe(true);
      timings.push({
        server: 'kafka',
        stopMs,
        downMs: Math.round(startedAt - stoppedAt),
        readyzDuring: `${duringOutage.status} ${duringOutage.text.trim()}`,
        // Whether the outage caught the worker with the chunk unread (not asserted: a race).
        unreadAtOutage: String(sum(ends4) - committedDuring),
        startMs,
        caughtUpMs,
      });
    }
    // Every undecodable record reached the rejected topic (at least once: a retried send may repeat one).
    const rejected = sum(await endOffsets(`${topic}.rejected`));
    expect(rejected).toBeGreaterThanOrEqual(BigInt(GARBAGE_COUNT));

    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    console.info(`worker-outage timings (ms):\n${timings.map((t) => JSON.stringify(t)).join('\n')}`);

    // The reference: the same topic, read once from the start without any outage.
    const ends = await endOffsets();
    const ref = await startWorker(env, topic, reference, log, workers);
    await eventually('the reference worker to commit everything', () => caughtUp(reference, ends), WAIT_MS, 100);
    ref.child.kill('SIGTERM');
    expect(await ref.exited).toBe(0);

    const expected = await candleTable(reference);
    expect(expected.length).toBeGreaterThan(1_000);
    expect(await candleTable(restarted)).toEqual(expected);
    expect(await alertTable(restarted)).toEqual(await alertTable(reference));
    passed = true;
  }, 1_800_000);
});
