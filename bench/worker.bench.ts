import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createConnection, createServer } from 'node:net';
import { resolve } from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { createNatsBus } from '../internal/bus/nats-bus.js';
import { parseWorkerOptions } from '../internal/config/worker.js';
import { MarketSimulator } from '../internal/ingest/simulator.js';
import { APPEND_TIME, createTopicsAndWait } from '../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../internal/log/kafka-consumer.js';
import { createKafkaProducer } from '../internal/log/kafka-producer.js';
import { fixRequestQueueTimers } from '../internal/log/kafka-request-queue.js';
import { decodeTrades, recordsByMarket } from '../internal/log/trade-batch.js';
import type { Trade } from '../internal/market/trade.js';
import { createLogger } from '../internal/observe/logger.js';
import { createRegistry } from '../internal/observe/metrics.js';
import { createPostgresStore } from '../internal/sink/postgres-store.js';
import { createRedisCache } from '../internal/sink/redis-cache.js';
import type { CommitBatch, Store } from '../internal/sink/store.js';
import { createIndexHost } from '../internal/worker/index-host.js';
import { marketActorFactory } from '../internal/worker/market-actors.js';
import { createWorkerMetrics } from '../internal/worker/metrics.js';
import { workerActorConfig, workerConfig } from '../internal/worker/options.js';
import { createWorker } from '../internal/worker/worker.js';
import { parseExports } from '../test/harness/global-setup.js';
import type { Bench, BenchResult } from './bench.js';
import { threadReplies } from './thread-replies.js';
import { benchMarkets, type LoadCommand, type LoadConfig, type LoadReply } from './worker-load.js';

/**
 * The worker against the real servers (docs/BENCHMARKS.md, "Worker"):
 *
 * throughput  N simulated trades of 1,000 markets pre-loaded on a fresh 8-partition topic (event
 *             time in the past, so the clock watermark never applies), then one in-process Worker
 *             with the real adapters (kafkajs, PostgreSQL, NATS, Redis, and the index actors as
 *             `tickmesh worker` runs them) from the first assign until every partition's committed
 *             checkpoint reaches the topic's end: trades/s, and trades per CPU-second of this
 *             process (process.cpuUsage), which is the per-core figure.
 * latency     a `tickmesh worker` process (clock watermark and partial candles on) while a thread
 *             of this process produces live trades at 5,000, 20,000 and 50,000 trades/s; every
 *             partial candle on `tickmesh.candle.partial.>` is timestamped on arrival and matched,
 *             by its last trade id, to the moment that trade was handed to the Kafka producer.
 *
 * Servers come from KAFKA_BROKERS, DATABASE_URL, NATS_URL and REDIS_URL; those not set are
 * started through test/infra/up.sh, as the test harness does. An unreachable server fails the run.
 */

const ROOT = resolve(import.meta.dirname, '..');
const PARTITIONS = 8;
export const MARKETS = 1_000;
/** The markets the producer spreads trades over: MARKETS, or TICKMESH_BENCH_WORKER_MARKETS (10000 for "Markets per worker"). */
function marketCount(): number {
  const raw = process.env.TICKMESH_BENCH_WORKER_MARKETS;
  if (raw === undefined || raw === '') return MARKETS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error('worker bench: TICKMESH_BENCH_WORKER_MARKETS must be a positive integer');
  return n;
}
export const INTERVALS = '1m,5m,15m,1h';
/** Mean simulated trades per second per market in the pre-loaded history (event time). */
const HISTORY_RATE = 5;

const SERVERS = { KAFKA_BROKERS: 'kafka', DATABASE_URL: 'postgres', NATS_URL: 'nats', REDIS_URL: 'redis' } as const;
export type Endpoints = Record<keyof typeof SERVERS, string>;

export async function servers(): Promise<Endpoints> {
  const names = Object.keys(SERVERS) as (keyof typeof SERVERS)[];
  const missing = names.filter((k) => !process.env[k]);
  const started: Record<string, string> = {};
  if (missing.length > 0) {
    const list = missing.map((k) => SERVERS[k]).join(' ');
    process.stderr.write(`worker bench: ${missing.join(', ')} not set; starting ${list} with test/infra/up.sh\n`);
    let out: string;
    try {
      out = execFileSync('bash', ['test/infra/up.sh'], {
        cwd: ROOT,
        env: { ...process.env, TICKMESH_INFRA_SERVERS: list },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    } catch (err) {
      throw new Error(`worker bench: test/infra/up.sh could not start ${list}; its errors are above`, { cause: err });
    }
    Object.assign(started, parseExports(out));
  }
  const env = {} as Endpoints;
  for (const k of names) {
    const v = process.env[k] ?? started[k];
    if (!v) throw new Error(`worker bench: ${k} is not set and test/infra/up.sh did not provide it`);
    env[k] = v;
  }
  await Promise.all(names.map((k) => reachable(k, env[k])));
  return env;
}

async function reachable(name: keyof typeof SERVERS, value: string): Promise<void> {
  const first = value.split(',')[0]?.trim() ?? '';
  const url = new URL(first.includes('://') ? first : `tcp://${first}`);
  const host = url.hostname;
  const port = Number(url.port);
  await new Promise<void>((ok, fail) => {
    const socket = createConnection({ host, port, timeout: 3_000 });
    socket.once('connect', () => {
      socket.end();
      ok();
    });
    const refuse = (why: string) => {
      socket.destroy();
      fail(
        new Error(
          `worker bench: ${SERVERS[name]} is not reachable at ${host}:${port} (${name}: ${why}). ` +
            `Start the servers with: eval "$(npm run -s infra:up)", or unset ${name} to let the bench start it.`,
        ),
      );
    };
    socket.once('timeout', () => refuse('timed out'));
    socket.once('error', (err) => refuse(err.message));
  });
}

export function runTag(): string {
  return `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}

export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value at quantile q of `sorted` (ascending), nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export function sorted(values: number[]): Float64Array {
  return Float64Array.from(values).sort();
}

export const ms = (v: number) => Math.round(v * 100) / 100;
export const fmt = (v: number) => Math.round(v).toLocaleString('en-US');

/** Busy and total CPU time of the whole machine, from /proc/stat (clock ticks). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

export function busyShare(a: { busy: number; total: number }, b: { busy: number; total: number }): string {
  return `${Math.round((100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total))}%`;
}

/** User+system CPU seconds of a process (and, with `children`, of its direct children). */
export function procCpu(pid: number, children = false): number {
  const ticks = (p: number | string): number => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return 0;
    }
  };
  let t = ticks(pid);
  if (children) {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) t += ticks(d);
      } catch {
        // the process ended while the list was read
      }
    }
  }
  return t / 100;
}

/** CPU seconds used so far by the servers test/infra started (whole processes: they serve other work too). */
export function serverCpu(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of ['kafka', 'postgres', 'nats', 'redis']) {
    try {
      const pid = Number(readFileSync(`/tmp/tickmesh-infra/pids/${s}.pid`, 'utf8').trim());
      out[s] = procCpu(pid, s === 'postgres');
    } catch {
      // not started by test/infra (another server): not measured
    }
  }
  return out;
}

export function serverCpuDelta(a: Record<string, number>, b: Record<string, number>, wallS: number): string {
  return Object.keys(b)
    .map((k) => `${k} ${((b[k]! - (a[k] ?? 0)) / wallS).toFixed(3)}`)
    .join(', ');
}

function otherLoad(): string {
  const ps = execFileSync('ps', ['-eo', 'pcpu=,comm=', '--sort=-pcpu'], { encoding: 'utf8' });
  return ps
    .split('\n')
    .slice(0, 6)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join('; ');
}

/** The real store, timing every commit. */
function timedStore(store: Store, commits: { ms: number; rows: number; bytes: number }[]): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'commit') {
        return async (batch: CommitBatch) => {
          const t = performance.now();
          await target.commit(batch);
          commits.push({
            ms: performance.now() - t,
            rows: batch.candles.length + batch.alerts.length,
            bytes: batch.state.length,
          });
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

async function deleteKeys(url: string, match: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function cleanup(
  env: Endpoints,
  kafka: Kafka,
  topics: string[],
  schema: string,
  keys: string,
): Promise<void> {
  const admin = kafka.admin();
  const db = new pg.Client({ connectionString: env.DATABASE_URL });
  await Promise.allSettled([
    (async () => {
      await admin.connect();
      await admin.deleteTopics({ topics });
      await admin.disconnect();
    })(),
    (async () => {
      await db.connect();
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.end();
    })(),
    deleteKeys(env.REDIS_URL, keys),
  ]);
}

export async function createTopics(kafka: Kafka, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const topics = [topic, `${topic}.late`, `${topic}.rejected`];
  // As `tickmesh` creates its topics (kafka-admin.ts): records carry the broker's append time,
  // which the worker's append-to-publish histogram starts from.
  await createTopicsAndWait(
    admin,
    topics.map((t, i) => ({
      topic: t,
      numPartitions: i === 0 ? PARTITIONS : 1,
      configEntries: [...APPEND_TIME],
    })),
  );
  await admin.disconnect();
  return topics;
}

// ---------------------------------------------------------------------------------------------
// throughput

/**
 * With TICKMESH_BENCH_PROFILE=<dir>, a V8 CPU profile of the timed part of the throughput run
 * (this process, the worker included) is written there; open it in Chrome DevTools.
 */
async function startProfile(): Promise<(() => Promise<void>) | undefined> {
  const dir = process.env.TICKMESH_BENCH_PROFILE;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((ok, fail) => session.post(method, params, (err, res) => (err ? fail(err) : ok(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return async () => {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    mkdirSync(dir, { recursive: true });
    const file = resolve(dir, `worker-throughput-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    process.stderr.write(`worker bench: CPU profile written to ${file}\n`);
  };
}

export async function preload(env: Endpoints, topic: string, total: number, prefix: string) {
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const producer = await createKafkaProducer({
    brokers: env.KAFKA_BROKERS.split(','),
    clientId: 'bench-worker-preload',
    logger,
    registry: createRegistry({}, false),
  });
  // A different history every run, so that JetStream's duplicate window never recognises the
  // closed candles of an earlier run (it would make this run's publishes cheaper).
  const startTime = Date.UTC(2024, 0, 1) + Math.floor(Math.random() * 300) * 86_400_000;
  const sim = new MarketSimulator({
    markets: benchMarkets(prefix, marketCount()),
    seed: 42,
    startTime,
    ratePerSecond: HISTORY_RATE,
  });
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  let firstEvent = Number.NaN;
  let lastEvent = Number.NaN;
  let records = 0;
  for (let sent = 0; sent < total; ) {
    const n = Math.min(20_000, total - sent);
    const trades: Trade[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const t = sim.next();
      if (Number.isNaN(firstEvent)) firstEvent = t.eventTime;
      lastEvent = t.eventTime;
      trades[i] = t;
    }
    // As ingest's log writer writes a send of them: the trades of one market in one record.
    const batch = recordsByMarket(trades);
    records += batch.length;
    inflight.push(producer.send(topic, batch));
    if (inflight.length >= 4) await inflight.shift();
    sent += n;
  }
  await Promise.all(inflight);
  await producer.close();
  return { seconds: (performance.now() - t0) / 1000, eventSpanS: (lastEvent - firstEvent) / 1000, lastEvent, records };
}

async function throughput(env: Endpoints, quick: boolean): Promise<BenchResult[]> {
  const total = Number(process.env.TICKMESH_BENCH_WORKER_TRADES) || (quick ? 200_000 : 2_000_000);
  const tag = runTag();
  const prefix = `T${tag.toUpperCase()}N`;
  const topic = `bench-worker-tp-${tag}`;
  const schema = `bench_worker_tp_${tag}`;
  const brokers = env.KAFKA_BROKERS.split(',');
  const kafka = new Kafka({ clientId: 'bench-worker', brokers, logLevel: logLevel.NOTHING });
  const topics = await createTopics(kafka, topic);
  // Closed in reverse on the way out, also when the run fails half-way.
  const closers: Array<() => Promise<unknown>> = [];
  try {
    const loaded = await preload(env, topic, total, prefix);
    const admin = kafka.admin();
    await admin.connect();
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
    await admin.disconnect();
    const records = [...ends.values()].reduce((a, b) => a + b, 0n);
    if (records !== BigInt(loaded.records)) {
      throw new Error(`worker bench: topic holds ${records} records, expected ${loaded.records}`);
    }

    const logger = createLogger({ level: 'warn', destination: process.stderr });
    const registry = createRegistry({}, false);
    const commits: { ms: number; rows: number; bytes: number }[] = [];
    const store = createPostgresStore({ connectionString: env.DATABASE_URL, schema, applicationName: 'bench-worker' });
    closers.push(() => store.close());
    const bus = await createNatsBus({ servers: env.NATS_URL, name: 'bench-worker', logger });
    closers.push(() => bus.close());
    const cache = createRedisCache({ url: env.REDIS_URL, keyPrefix: `${schema}:` });
    closers.push(() => cache.close());
    const producer = await createKafkaProducer({ brokers, clientId: 'bench-worker', logger, registry });
    closers.push(() => producer.close());
    const consumer = await createKafkaConsumer({ brokers, clientId: 'bench-worker', logger, topic });
    closers.push(() => consumer.close());
    const metrics = createWorkerMetrics(registry);
    const options = parseWorkerOptions({
      topic,
      intervals: INTERVALS,
      'late-topic': `${topic}.late`,
      'rejected-topic': `${topic}.rejected`,
    });
    const worker = createWorker({
      consumer,
      producer,
      store: timedStore(store, commits),
      bus,
      cache,
      actors: marketActorFactory(workerActorConfig(options)),
      logger,
      metrics,
      clock: Date.now,
      config: workerConfig(options),
    });
    const run = new AbortController();
    closers.push(async () => run.abort());
    await worker.start(run.signal);
    closers.push(() => worker.close());
    const indexHost = createIndexHost({ bus, store, logger, owns: () => options.indexActors });
    await indexHost.start(run.signal);
    closers.push(() => indexHost.close());
    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    closers.push(() => db.end());

    const profile = await startProfile();
    const heap0 = process.memoryUsage().heapUsed;
    const servers0 = serverCpu();
    const machine0 = machineCpu();
    const load0 = otherLoad();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let p = 0; p < PARTITIONS; p++) await worker.assign(p, 1);
    let maxUncommitted = 0;
    let maxMailbox = 0;
    let maxHeap = heap0;
    const progress: { t: number; processed: number }[] = [];
    for (;;) {
      const { rows } = await db.query(`SELECT partition, next_offset FROM "${schema}".checkpoints WHERE topic = $1`, [
        topic,
      ]);
      const committed = new Map<number, bigint>(
        rows.map((r: { partition: number; next_offset: string | null }) => [r.partition, BigInt(r.next_offset ?? 0)]),
      );
      const lag = new Map((await metrics.lag.get()).values.map((v) => [Number(v.labels.partition), v.value]));
      let done = 0n;
      let uncommitted = 0;
      for (const [p, end] of ends) {
        const c = committed.get(p) ?? 0n;
        done += c < end ? c : end;
        const l = lag.get(p);
        if (l !== undefined) uncommitted += Math.max(0, Number(end - c) - l);
      }
      // Trades through the actors (a record may hold several).
      const processed = (await metrics.trades.get()).values.reduce((a, v) => a + v.value, 0);
      maxUncommitted = Math.max(maxUncommitted, uncommitted);
      for (const v of (await metrics.mailboxDepth.get()).values) maxMailbox = Math.max(maxMailbox, v.value);
      maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
      progress.push({ t: performance.now(), processed });
      if (done === records) break;
      await sleep(50);
    }
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await profile?.();
    const machine1 = machineCpu();
    const servers1 = serverCpu();
    const cpuS = (cpu.user + cpu.system) / 1e6;

    // The steady part: from 10% to 90% of the trades processed by the actors (no start-up, no
    // tail; commits trail processing by up to a checkpoint interval).
    const at = (share: number) =>
      progress.find((s) => s.processed >= share * total) as { t: number; processed: number };
    const p10 = at(0.1);
    const p90 = at(0.9);
    const steady = (p90.processed - p10.processed) / ((p90.t - p10.t) / 1000);

    const outcomes = Object.fromEntries((await metrics.trades.get()).values.map((v) => [v.labels.outcome, v.value]));
    const candles = Object.fromEntries((await metrics.candles.get()).values.map((v) => [v.labels.kind, v.value]));
    const alerts = (await metrics.alerts.get()).values[0]?.value ?? 0;
    const cpHist = (await metrics.checkpointSeconds.get()).values;
    const cpCount = cpHist.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    const cpSum = cpHist.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
    const commitMs = sorted(commits.map((c) => c.ms));
    const rowsPerCommit = commits.reduce((a, c) => a + c.rows, 0) / Math.max(1, commits.length);
    const bytesPerCommit = commits.reduce((a, c) => a + c.bytes, 0) / Math.max(1, commits.length);

    await worker.drain();

    const setup = {
      trades: total,
      partitions: PARTITIONS,
      markets: marketCount(),
      intervals: INTERVALS,
      'event time covered': `${Math.round(loaded.eventSpanS)} s (${HISTORY_RATE} trades/s per market on average, Hawkes bursts)`,
      'pre-load (not timed)': `${fmt(total / loaded.seconds)} trades/s into Kafka (zstd, the producers' default)`,
    };
    return [
      {
        name: 'throughput: Kafka to committed candles, one worker process',
        value: Math.round(total / wallS),
        unit: 'trades/s',
        details: {
          ...setup,
          'wall time': `${wallS.toFixed(2)} s (first assign to every checkpoint at the end offset)`,
          'processing rate, 10% to 90% processed': `${fmt(steady)} trades/s`,
          'worker CPU (process.cpuUsage)': `${cpuS.toFixed(2)} s = ${(cpuS / wallS).toFixed(2)} cores`,
          outcomes: JSON.stringify(outcomes),
          'candles committed': JSON.stringify(candles),
          'alerts committed': alerts,
          'machine busy (both cores, all processes)': busyShare(machine0, machine1),
          'server CPU, cores': serverCpuDelta(servers0, servers1, wallS),
          'top processes before': load0,
        },
      },
      {
        name: 'throughput per worker core (trades per CPU-second of the worker process)',
        value: Math.round(total / cpuS),
        unit: 'trades/s per core',
        details: { target: '250,000 trades/s per worker core' },
      },
      {
        name: 'checkpoints committed',
        value: commits.length,
        unit: 'commits',
        details: {
          'commit transaction, ms p50 / p99 / max': `${ms(quantile(commitMs, 0.5))} / ${ms(quantile(commitMs, 0.99))} / ${ms(quantile(commitMs, 1))}`,
          'settle + commit, mean ms (tickmesh_worker_checkpoint_seconds)': ms((1000 * cpSum) / Math.max(1, cpCount)),
          'rows per commit, mean': Math.round(rowsPerCommit),
          'state bytes per commit, mean': Math.round(bytesPerCommit),
        },
      },
      {
        name: 'lag bound: most records processed and not yet committed',
        value: maxUncommitted,
        unit: 'records',
        details: {
          'most batches in one mailbox': maxMailbox,
          'heap growth, max': `${Math.round((maxHeap - heap0) / 1048576)} MiB`,
        },
      },
    ];
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    await cleanup(env, kafka, topics, schema, `${schema}:*`);
  }
}

// ---------------------------------------------------------------------------------------------
// latency

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/**
 * SIGTERM, then SIGKILL if the worker has not exited within `graceMs`. Leaves no timer behind: a
 * `Promise.race` with a plain 30 s sleep kept the bench runner alive for the rest of those 30 s
 * after the worker had exited ("handles still open 10 s after the end" after the peers bench).
 */
export async function stopWorkerProcess(proc: WorkerProcess, graceMs = 30_000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
  });
  const outcome = await Promise.race([proc.exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
}

/**
 * `launch.prefix` runs the worker under another command (`taskset -c 1`), `launch.nodeArgs` adds
 * Node flags (an `--import` hook), `launch.ipc` opens an IPC channel to it.
 */
export async function startWorkerProcess(
  env: Endpoints,
  args: string[],
  launch: { prefix?: string[]; nodeArgs?: string[]; ipc?: boolean; cwd?: string } = {},
): Promise<WorkerProcess> {
  const node = [process.execPath, '--import', 'tsx', ...(launch.nodeArgs ?? []), 'cmd/tickmesh/main.ts', 'worker'];
  const [cmd, ...rest] = [...(launch.prefix ?? []), ...node, ...args] as [string, ...string[]];
  const child = spawn(cmd, rest, {
    // launch.cwd or TICKMESH_BENCH_WORKER_ROOT: the worker of another checkout (a before-and-after in one run).
    cwd: launch.cwd ?? (process.env.TICKMESH_BENCH_WORKER_ROOT || ROOT),
    env: { ...process.env, ...env },
    stdio: launch.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  await new Promise<void>((ok, fail) => {
    const onData = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
      if (output.includes('"worker running"')) ok();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => fail(new Error(`worker bench: tickmesh worker exited (${code}):\n${output}`)));
  });
  // Warnings and errors of the worker go on the bench's stderr; info lines are dropped.
  const forward = (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (/"level":(40|50|60)/.test(line)) process.stderr.write(`${line}\n`);
  };
  child.stdout?.removeAllListeners('data').on('data', forward);
  child.stderr?.removeAllListeners('data').on('data', (d: Buffer) => process.stderr.write(d));
  return { child, exited };
}

/** Samples of the worker's /metrics. */
export interface Scrape {
  readonly lag: number;
  readonly trades: number;
  /** tickmesh_worker_append_to_publish_seconds buckets: upper bound -> cumulative count. */
  readonly appendToPublish: Map<number, number>;
  /** The process's resident set and V8 heap in use (prom-client default metrics), bytes. */
  readonly rss: number;
  readonly heapUsed: number;
  /** The V8 heap reserved (all spaces), its new space, and memory outside it (Buffers, typed arrays' stores). */
  readonly heapTotal: number;
  readonly newSpace: number;
  readonly external: number;
  /** Market actors in memory (tickmesh_worker_markets, state="memory"), over all partitions. */
  readonly markets: number;
  /** tickmesh_worker_checkpoint_state_bytes and _seconds: sums and counts so far. */
  readonly checkpointBytes: { readonly sum: number; readonly count: number };
  readonly checkpointSeconds: { readonly sum: number; readonly count: number };
}

export async function scrape(port: number): Promise<Scrape> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let lag = 0;
  let trades = 0;
  const appendToPublish = new Map<number, number>();
  let rss = 0;
  let heapUsed = 0;
  let heapTotal = 0;
  let newSpace = 0;
  let external = 0;
  let markets = 0;
  const checkpointBytes = { sum: 0, count: 0 };
  const checkpointSeconds = { sum: 0, count: 0 };
  const value = (line: string) => Number(line.slice(line.lastIndexOf(' ') + 1));
  for (const line of text.split('\n')) {
    if (line.startsWith('tickmesh_process_resident_memory_bytes')) rss = value(line);
    else if (line.startsWith('tickmesh_nodejs_heap_size_used_bytes')) heapUsed = value(line);
    else if (line.startsWith('tickmesh_nodejs_heap_size_total_bytes')) heapTotal = value(line);
    else if (line.startsWith('tickmesh_nodejs_heap_space_size_total_bytes{') && line.includes('space="new"'))
      newSpace = value(line);
    else if (line.startsWith('tickmesh_nodejs_external_memory_bytes')) external = value(line);
    else if (line.startsWith('tickmesh_worker_markets{') && line.includes('state="memory"')) markets += value(line);
    else if (line.startsWith('tickmesh_worker_checkpoint_state_bytes_sum')) checkpointBytes.sum += value(line);
    else if (line.startsWith('tickmesh_worker_checkpoint_state_bytes_count')) checkpointBytes.count += value(line);
    else if (line.startsWith('tickmesh_worker_checkpoint_seconds_sum')) checkpointSeconds.sum += value(line);
    else if (line.startsWith('tickmesh_worker_checkpoint_seconds_count')) checkpointSeconds.count += value(line);
    if (line.startsWith('tickmesh_worker_consumer_lag_records{')) lag += Number(line.slice(line.lastIndexOf(' ') + 1));
    else if (line.startsWith('tickmesh_worker_trades_total{')) trades += Number(line.slice(line.lastIndexOf(' ') + 1));
    else if (line.startsWith('tickmesh_worker_append_to_publish_seconds_bucket{')) {
      const le = /le="([^"]+)"/.exec(line)?.[1] ?? '+Inf';
      appendToPublish.set(
        le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le),
        Number(line.slice(line.lastIndexOf(' ') + 1)),
      );
    }
  }
  return {
    lag,
    trades,
    appendToPublish,
    rss,
    heapUsed,
    heapTotal,
    newSpace,
    external,
    markets,
    checkpointBytes,
    checkpointSeconds,
  };
}

/** VmHWM of a process from /proc, bytes (0 when it cannot be read). */
function peakRss(pid: number): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

/** The resident set of a process by kind from /proc (anonymous: heaps, malloc; file: mapped code), MB. */
function residentKinds(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mb = (key: string) => (Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1e3).toFixed(0);
    return `${mb('RssAnon')} / ${mb('RssFile')}`;
  } catch {
    return 'unknown';
  }
}

/** Checkpoints committed between two scrapes: count, mean state bytes, mean ms. */
function checkpoints(a: Scrape, b: Scrape): string {
  const n = b.checkpointBytes.count - a.checkpointBytes.count;
  if (n === 0) return 'none';
  const bytes = (b.checkpointBytes.sum - a.checkpointBytes.sum) / n;
  const seconds =
    (b.checkpointSeconds.sum - a.checkpointSeconds.sum) /
    Math.max(1, b.checkpointSeconds.count - a.checkpointSeconds.count);
  return `${n}, ${fmt(bytes)} B, ${ms(seconds * 1000)} ms`;
}

/** The bucket bound (ms) under which the share q of the observations between two scrapes fell. */
function bucketQuantile(a: Map<number, number>, b: Map<number, number>, q: number): string {
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const total = (b.get(Number.POSITIVE_INFINITY) ?? 0) - (a.get(Number.POSITIVE_INFINITY) ?? 0);
  if (total === 0) return 'no observations';
  for (const le of bounds) {
    if ((b.get(le) ?? 0) - (a.get(le) ?? 0) >= q * total)
      return le === Number.POSITIVE_INFINITY ? '> 30 s' : `<= ${le * 1000} ms`;
  }
  return 'unknown';
}

interface Phase {
  readonly rate: number;
  readonly start: number;
  readonly measureFrom: number;
  readonly end: number;
  readonly sent: number;
  readonly maxBehind: number;
  readonly acks: Float64Array;
}

/** The latency and transport scenarios' input rates, trades/s in order: TICKMESH_BENCH_LATENCY_RATES=500,5000 measures others. */
function latencyRates(): number[] {
  const rates = (process.env.TICKMESH_BENCH_LATENCY_RATES ?? '5000,20000,50000').split(',').map(Number);
  if (rates.some((r) => !Number.isInteger(r) || r <= 0))
    throw new Error('worker bench: TICKMESH_BENCH_LATENCY_RATES must list positive integers');
  return rates;
}

/** The load thread (bench/worker-load.ts) producing into `topic` as ingest does, and its replies. */
export function startLoad(env: Endpoints, topic: string, markets: ReturnType<typeof benchMarkets>) {
  const thread = new Thread(new URL('./worker-load.ts', import.meta.url), {
    workerData: {
      kind: 'worker-bench-load',
      brokers: env.KAFKA_BROKERS.split(','),
      topic,
      markets,
      seed: 7,
      lingerMs: 1,
    } satisfies LoadConfig,
  });
  const next = threadReplies<LoadReply>(thread, 'worker bench: load thread');
  return { thread, next };
}

async function latency(env: Endpoints, quick: boolean): Promise<BenchResult[]> {
  const rates = latencyRates();
  // TICKMESH_BENCH_LATENCY_WARMUP_MS / _MEASURE_MS: longer phases, e.g. the idle cost at a few
  // trades per second (TICKMESH_BENCH_LATENCY_RATES=17: 1,000 markets trading once a minute).
  const warmupMs = Number(process.env.TICKMESH_BENCH_LATENCY_WARMUP_MS) || (quick ? 2_000 : 5_000);
  const measureMs = Number(process.env.TICKMESH_BENCH_LATENCY_MEASURE_MS) || (quick ? 5_000 : 25_000);
  const tag = runTag();
  const prefix = `L${tag.toUpperCase()}N`;
  const topic = `bench-worker-lat-${tag}`;
  const schema = `bench_worker_lat_${tag}`;
  const kafka = new Kafka({
    clientId: 'bench-worker',
    brokers: env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const topics = await createTopics(kafka, topic);
  const markets = benchMarkets(prefix, marketCount());
  let proc: WorkerProcess | undefined;
  let load: Thread | undefined;
  try {
    const port = await freePort();
    proc = await startWorkerProcess(env, [
      ...['--topic', topic, '--schema', schema, '--intervals', INTERVALS, '--port', String(port)],
      ...['--clock-watermark', 'true', '--partial-updates', 'true'],
      // TICKMESH_BENCH_WORKER_ARGS="--partial-interval-ms 0" runs the worker with other options.
      ...(process.env.TICKMESH_BENCH_WORKER_ARGS?.split(' ').filter((a) => a !== '') ?? []),
      ...['--late-topic', `${topic}.late`, '--rejected-topic', `${topic}.rejected`],
    ]);
    const workerPid = proc.child.pid as number;

    // Receipts of partial candles: the first arrival of each (market, last trade id).
    const index = new Map(markets.map((m, i) => [m.market, i]));
    const lastSeen = new Float64Array(markets.length);
    const rMarket: number[] = [];
    const rId: number[] = [];
    const rAt: number[] = [];
    let partials = 0;
    const bus = await createNatsBus({ servers: env.NATS_URL, name: 'bench-worker-latency' });
    const sub = bus.subscribe('tickmesh.candle.partial.>', { capacity: 200_000 });
    const decoder = new TextDecoder();
    const receiving = (async () => {
      for await (const msg of sub) {
        const at = wallNow();
        const mi = index.get(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
        if (mi === undefined) continue;
        partials++;
        const id = Number((JSON.parse(decoder.decode(msg.data)) as { lastTradeId: string }).lastTradeId);
        if (!(id > (lastSeen[mi] as number))) continue;
        lastSeen[mi] = id;
        rMarket.push(mi);
        rId.push(id);
        rAt.push(at);
      }
    })();

    const started = startLoad(env, topic, markets);
    load = started.thread;
    const next = started.next;
    await next('ready');

    const phases: {
      phase: Phase;
      workerCpuS: number;
      cpuPerTradeUs: number;
      peakRss: number;
      benchCpuS: number;
      busy: string;
      servers: string;
      maxLag: number;
      resident: string;
      a: Scrape;
      b: Scrape;
    }[] = [];
    for (const rate of rates) {
      load.postMessage({ type: 'phase', rate, warmupMs, measureMs } satisfies LoadCommand);
      await sleep(warmupMs);
      const a = await scrape(port);
      const cpuA = procCpu(workerPid);
      const benchA = process.cpuUsage();
      const machineA = machineCpu();
      const serversA = serverCpu();
      const tA = performance.now();
      let maxLag = a.lag;
      const done = next('phase-done');
      let finished = false;
      void done.then(
        () => {
          finished = true;
        },
        () => {
          finished = true;
        },
      );
      while (!finished) {
        await sleep(1_000);
        if (!finished) maxLag = Math.max(maxLag, (await scrape(port)).lag);
      }
      const phase: Phase = await done;
      await sleep(300);
      const b = await scrape(port);
      maxLag = Math.max(maxLag, b.lag);
      const wallS = (performance.now() - tA) / 1000;
      const bench = process.cpuUsage(benchA);
      const workerCpu = procCpu(workerPid) - cpuA;
      phases.push({
        phase,
        workerCpuS: workerCpu / wallS,
        cpuPerTradeUs: (1e6 * workerCpu) / Math.max(1, b.trades - a.trades),
        peakRss: peakRss(workerPid),
        benchCpuS: (bench.user + bench.system) / 1e6 / wallS,
        busy: busyShare(machineA, machineCpu()),
        servers: serverCpuDelta(serversA, serverCpu(), wallS),
        maxLag,
        resident: residentKinds(workerPid),
        a,
        b,
      });
    }
    await sleep(2_000);
    load.postMessage({ type: 'finish' } satisfies LoadCommand);
    const { stamps } = await next('stamps');
    sub.unsubscribe();
    await receiving;
    const dropped = sub.dropped;
    await bus.close();

    const results: BenchResult[] = [];
    for (const {
      phase,
      workerCpuS,
      cpuPerTradeUs,
      peakRss,
      benchCpuS,
      busy,
      servers,
      maxLag,
      resident,
      a,
      b,
    } of phases) {
      const inWindow = (t: number | undefined) => t !== undefined && t >= phase.measureFrom && t < phase.end;
      // Update latency: each partial candle, from the send of the trade it names last.
      const update: number[] = [];
      // The same per second of the window, so that a stall shows as a step, not as a mean.
      const perSecond: number[][] = [];
      for (let i = 0; i < rAt.length; i++) {
        const sent = stamps[rMarket[i] as number]?.[rId[i] as number];
        if (!inWindow(sent)) continue;
        const d = (rAt[i] as number) - (sent as number);
        update.push(d);
        const second = Math.floor(((sent as number) - phase.measureFrom) / 1000);
        const bucket = perSecond[second] ?? [];
        bucket.push(d);
        perSecond[second] = bucket;
      }
      // Visibility: every trade, from its send to the first partial candle that includes it.
      const visible: number[] = [];
      const covered = new Float64Array(markets.length);
      for (let i = 0; i < rAt.length; i++) {
        const m = rMarket[i] as number;
        const s = stamps[m] as Float64Array;
        for (let id = (covered[m] as number) + 1; id <= (rId[i] as number); id++) {
          if (inWindow(s[id])) visible.push((rAt[i] as number) - (s[id] as number));
        }
        covered[m] = rId[i] as number;
      }
      let sentInWindow = 0;
      for (const s of stamps) for (let id = 1; id < s.length; id++) if (inWindow(s[id])) sentInWindow++;
      const u = sorted(update);
      const v = sorted(visible);
      const achieved = phase.sent / ((phase.end - phase.start) / 1000);
      results.push({
        name: `latency at ${fmt(phase.rate)} trades/s: producer send to NATS partial candle, p99`,
        value: ms(quantile(u, 0.99)),
        unit: 'ms',
        details: {
          'update latency ms p50 / p99 / p99.9 / max': `${ms(quantile(u, 0.5))} / ${ms(quantile(u, 0.99))} / ${ms(quantile(u, 0.999))} / ${ms(quantile(u, 1))}`,
          'updates measured': update.length,
          'update latency p50 ms, each second of the window': [...perSecond]
            .map((d) => (d === undefined ? '-' : String(Math.round(quantile(sorted(d), 0.5)))))
            .join(' '),
          'trade visibility ms p50 / p99 / max (every trade, includes the 250 ms partial rate limit)': `${ms(quantile(v, 0.5))} / ${ms(quantile(v, 0.99))} / ${ms(quantile(v, 1))}`,
          'trades sent in the window / seen in a partial': `${sentInWindow} / ${visible.length}`,
          'worker metric append_to_publish p50 / p99 (bucket bound)': `${bucketQuantile(a.appendToPublish, b.appendToPublish, 0.5)} / ${bucketQuantile(a.appendToPublish, b.appendToPublish, 0.99)}`,
          'worker trades counted in the window': b.trades - a.trades,
          'max consumer lag, records (1 s samples)': maxLag,
          'rate achieved by the producer': `${fmt(achieved)} trades/s (most behind schedule: ${phase.maxBehind} trades)`,
          'producer send to Kafka ack ms p50 / p99 / max (the load side and the broker)': `${ms(quantile(phase.acks, 0.5))} / ${ms(quantile(phase.acks, 0.99))} / ${ms(quantile(phase.acks, 1))}`,
          'worker process CPU, cores': workerCpuS.toFixed(3),
          'worker CPU per trade counted, µs': cpuPerTradeUs.toFixed(1),
          'worker market actors in memory (end of the window)': b.markets,
          'worker RSS / V8 heap used, MB (end of the window); peak RSS (VmHWM)': `${(b.rss / 1e6).toFixed(0)} / ${(b.heapUsed / 1e6).toFixed(0)}; ${(peakRss / 1e6).toFixed(0)}`,
          'worker V8 heap reserved (new space) / external, MB; RSS anonymous / file-backed, MB': `${(b.heapTotal / 1e6).toFixed(0)} (${(b.newSpace / 1e6).toFixed(0)}) / ${(b.external / 1e6).toFixed(0)}; ${resident}`,
          'checkpoints in the window: commits, state bytes per commit (mean), settle + commit ms (mean)': checkpoints(
            a,
            b,
          ),
          'bench process CPU (producer thread + subscriber), cores': benchCpuS.toFixed(2),
          'machine busy (both cores, all processes)': busy,
          'server CPU, cores': servers,
          window: `${measureMs / 1000} s after ${warmupMs / 1000} s of warm-up`,
        },
      });
    }
    results.push({
      name: 'latency: partial candle messages received',
      value: partials,
      unit: 'messages',
      details: { 'dropped by the subscriber buffer': dropped },
    });
    return results;
  } finally {
    await load?.terminate();
    if (proc) await stopWorkerProcess(proc);
    await cleanup(env, kafka, topics, schema, `tickmesh:*:sim:${prefix}*`);
  }
}

// ---------------------------------------------------------------------------------------------
// transport

/**
 * The Kafka leg alone, to tell it from the worker's share of the latency figures: the latency
 * scenario's load thread (the same markets, records shaped as ingest's log writer shapes them, linger
 * 1 ms) into a fresh topic with the broker's append time, read on this thread by the project's
 * placed-partition consumer, with no worker. For each record received in the window: receipt
 * minus its append time (what the worker target's "Kafka append to NATS publish" also holds),
 * and for each of its trades receipt minus its send time (the load stamps a trade's event time
 * with its send() time in whole ms, so this reads up to 1 ms high).
 */
async function transport(env: Endpoints, quick: boolean): Promise<BenchResult[]> {
  const rates = latencyRates();
  // The latency scenario's TICKMESH_BENCH_LATENCY_WARMUP_MS / _MEASURE_MS apply here too.
  const warmupMs = Number(process.env.TICKMESH_BENCH_LATENCY_WARMUP_MS) || (quick ? 1_000 : 2_000);
  const measureMs = Number(process.env.TICKMESH_BENCH_LATENCY_MEASURE_MS) || (quick ? 3_000 : 10_000);
  const tag = runTag();
  const topic = `bench-worker-transport-${tag}`;
  const brokers = env.KAFKA_BROKERS.split(',');
  const kafka = new Kafka({ clientId: 'bench-worker', brokers, logLevel: logLevel.NOTHING });
  const topics = await createTopics(kafka, topic);
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  // TICKMESH_BENCH_TRANSPORT_FETCH="100/1,500/4096": one consumer per fetch setting (max wait ms /
  // min bytes), all reading the same records side by side; default one with the adapter's defaults.
  const settings = (process.env.TICKMESH_BENCH_TRANSPORT_FETCH ?? '')
    .split(',')
    .filter((x) => x !== '')
    .map((x) => {
      const [wait, min] = x.split('/').map(Number);
      if (!Number.isInteger(wait) || !Number.isInteger(min)) throw new Error(`worker bench: bad fetch setting ${x}`);
      return { label: `fetch wait ${wait} ms, min bytes ${min}`, options: { maxWaitTimeMs: wait, minBytes: min } };
    });
  if (settings.length === 0) settings.push({ label: '', options: {} as { maxWaitTimeMs: number; minBytes: number } });
  const readers = await Promise.all(
    settings.map(async (s) => ({
      ...s,
      consumer: await createKafkaConsumer({ brokers, clientId: 'bench-transport', logger, topic, ...s.options }),
      fromAppend: [] as number[],
      fromSend: [] as number[],
    })),
  );
  const markets = benchMarkets(`T${tag.toUpperCase()}N`, marketCount());
  const results: BenchResult[] = [];
  const ac = new AbortController();
  let load: Thread | undefined;
  try {
    for (const r of readers) for (let p = 0; p < PARTITIONS; p++) await r.consumer.assign(p, 0n);
    let from = Number.POSITIVE_INFINITY;
    let until = Number.POSITIVE_INFINITY;
    const reading = readers.map(async (reader) => {
      for await (const batch of reader.consumer.batches(ac.signal)) {
        const at = wallNow();
        if (at < from || at >= until) continue;
        for (const r of batch.records) {
          reader.fromAppend.push(at - r.timestamp);
          for (const t of decodeTrades(r.value, r.headers)) reader.fromSend.push(at - t.eventTime);
        }
      }
    });
    const started = startLoad(env, topic, markets);
    load = started.thread;
    await started.next('ready');
    for (const rate of rates) {
      for (const r of readers) {
        r.fromAppend = [];
        r.fromSend = [];
      }
      const fetchesA = readers.map((r) => r.consumer.stats().fetches);
      const start = wallNow();
      from = start + warmupMs;
      until = from + measureMs;
      load.postMessage({ type: 'phase', rate, warmupMs, measureMs } satisfies LoadCommand);
      await started.next('phase-done');
      // What was sent in the window arrives within a second; receipts after it are not counted.
      await sleep(Math.max(0, until - wallNow()) + 1_000);
      const seconds = (wallNow() - start) / 1000;
      readers.forEach((reader, i) => {
        const a = sorted(reader.fromAppend);
        const f = sorted(reader.fromSend);
        const fetches = reader.consumer.stats().fetches - (fetchesA[i] as number);
        results.push({
          name: `transport at ${fmt(rate)} trades/s${reader.label ? ` (${reader.label})` : ''}: Kafka append to consumer receipt, p99`,
          value: ms(quantile(a, 0.99)),
          unit: 'ms',
          details: {
            'append to receipt ms p50 / p99 / max (per record)': `${ms(quantile(a, 0.5))} / ${ms(quantile(a, 0.99))} / ${ms(quantile(a, 1))}`,
            'producer send to receipt ms p50 / p99 / max (per trade, whole ms)': `${ms(quantile(f, 0.5))} / ${ms(quantile(f, 0.99))} / ${ms(quantile(f, 1))}`,
            'records / trades received in the window': `${a.length} / ${f.length}`,
            'fetches per second (warm-up and window)': (fetches / seconds).toFixed(1),
            window: `${measureMs / 1000} s after ${warmupMs / 1000} s of warm-up`,
          },
        });
      });
    }
    load.postMessage({ type: 'finish' } satisfies LoadCommand);
    await started.next('stamps');
    ac.abort();
    await Promise.all(reading.map((r) => r.catch(() => undefined)));
  } finally {
    ac.abort();
    await load?.terminate();
    for (const r of readers) await r.consumer.close();
    const cleanupAdmin = kafka.admin();
    await cleanupAdmin.connect();
    await cleanupAdmin.deleteTopics({ topics }).catch(() => undefined);
    await cleanupAdmin.disconnect();
  }
  return results;
}

const bench: Bench = {
  name: 'worker',
  description:
    'one worker against real Kafka, PostgreSQL, NATS and Redis: sustained trades/s to committed candles; ' +
    'send-to-NATS latency of partial candles at fixed input rates; the Kafka leg alone at the same rates',
  async run({ quick }) {
    // The bench's own kafkajs clients (admin, transport), as tickmesh's: no 1 ms timer loop.
    fixRequestQueueTimers();
    const env = await servers();
    const names = (process.env.TICKMESH_BENCH_WORKER ?? 'throughput,latency,transport').split(',');
    const results: BenchResult[] = [];
    if (names.includes('throughput')) results.push(...(await throughput(env, quick)));
    if (names.includes('latency')) results.push(...(await latency(env, quick)));
    if (names.includes('transport')) results.push(...(await transport(env, quick)));
    return results;
  },
};

export default bench;
