import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { APPEND_TIME, createTopicsAndWait } from '../internal/log/kafka-admin.js';
import { createKafkaProducer } from '../internal/log/kafka-producer.js';
import { recordsByMarket } from '../internal/log/trade-batch.js';
import type { Trade } from '../internal/market/trade.js';
import { silentLogger } from '../internal/observe/logger.js';
import { createRegistry } from '../internal/observe/metrics.js';
import type { Bench, BenchResult } from './bench.js';
import {
  compare,
  duckdb,
  duckdbCandles,
  generated,
  type Measured,
  tickmesh,
  tickmeshCandles,
} from './offline.bench.js';
import {
  cleanup,
  createTopics,
  type Endpoints,
  freePort,
  preload,
  procCpu,
  runTag,
  servers,
  startWorkerProcess,
  stopWorkerProcess,
} from './worker.bench.js';
import { benchMarkets } from './worker-load.js';

/**
 * tickmesh against the tools a user would use instead, on the same work (issue 21):
 *
 * Flink   one topic filled once with the worker bench's simulated trades (1,000 markets,
 *         trade-batch.v1 records, zstd), then, alternating, in rounds: a `tickmesh worker`
 *         process from its start until every partition's committed checkpoint is at the topic's
 *         end, and the Flink job of bench/peers/flink (a MiniCluster in a fresh JVM) reading the
 *         same topic to its end: cold (the whole JVM), on an empty topic (its fixed start-up),
 *         and twice in one JVM (the second run is the warm figure). Trades per CPU-second of each
 *         from /proc/<pid>/stat (the JVM reads its own), the ratios, and the candles of both
 *         tables compared row for row with exact decimals.
 * DuckDB  the offline bench's comparison (bench/offline.bench.ts) on its 1-market file:
 *         `tickmesh candles` against DuckDB on one thread, outputs checked equal.
 *
 * Environment: TICKMESH_BENCH_PEERS_TRADES (default 2,000,000), TICKMESH_BENCH_PEERS_ROUNDS
 * (default 2), TICKMESH_BENCH_PEERS_PARALLELISM (default 1: the worker is one Node process),
 * TICKMESH_BENCH_PEERS_CHECKPOINT_MS (Flink's checkpoint interval, default 1000 as the worker's),
 * TICKMESH_BENCH_PEERS_WINDOWS=0 skips the window-operator-per-interval shape. The job's jar is
 * built with Maven (offline first, from ~/.m2) when it is missing.
 */
const ROOT = resolve(import.meta.dirname, '..');
const FLINK_DIR = join(ROOT, 'bench', 'peers', 'flink');
const JAR = join(FLINK_DIR, 'target', 'tickmesh-peers-flink.jar');
const INTERVALS = '1m,5m,15m,1h';
const PARTITIONS = 8;
const MARKETS = 1_000;
/** tickmesh's defaults (internal/config/worker.ts), given to Flink as its watermark and lateness. */
const OUT_OF_ORDER_MS = 2_000;
const LATENESS_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const perCpuS = (trades: number, cpuS: number): number => Math.round(trades / Math.max(cpuS, 1e-3));
const fmt = (v: number) => Math.round(v).toLocaleString('en-US');

function ensureJar(): void {
  if (existsSync(JAR)) return;
  process.stderr.write('peers bench: building the Flink job with Maven (bench/peers/flink)\n');
  const build = (offline: boolean) =>
    execFileSync('mvn', ['-B', '-q', ...(offline ? ['-o'] : []), 'package', '-DskipTests'], {
      cwd: FLINK_DIR,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  try {
    build(true);
  } catch {
    // ~/.m2 lacks a dependency: fetch it from Maven Central once
    build(false);
  }
}

/** `postgres://u:p@h:port/db` as a JDBC URL, with batched inserts rewritten into multi-row ones. */
function jdbcUrl(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  const q = new URLSearchParams({ reWriteBatchedInserts: 'true' });
  if (u.username) q.set('user', decodeURIComponent(u.username));
  if (u.password) q.set('password', decodeURIComponent(u.password));
  return `jdbc:postgresql://${u.hostname}:${u.port || 5432}${u.pathname}?${q}`;
}

interface FlinkRun {
  readonly run: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly trades: number;
  readonly late: number;
  readonly emitted: number;
}

interface FlinkProcess {
  readonly wallS: number;
  /** CPU seconds of the whole JVM at the end of main (/proc/self/stat). */
  readonly cpuS: number;
  /** CPU seconds before main ran: the JVM's own start. */
  readonly mainCpuS: number;
  readonly runs: readonly FlinkRun[];
}

async function flink(args: {
  env: Endpoints;
  topic: string;
  table: string;
  runs: number;
  /** The topic of each run in the JVM, when they differ. */
  runTopics?: readonly string[];
  shape: 'keyed' | 'windows';
  parallelism: number;
  checkpointMs: number;
}): Promise<FlinkProcess> {
  const argv = [
    '-jar',
    JAR,
    ...['--brokers', args.env.KAFKA_BROKERS, '--topic', args.topic, '--jdbc', jdbcUrl(args.env.DATABASE_URL)],
    ...['--table', args.table, '--intervals', INTERVALS, '--shape', args.shape, '--runs', String(args.runs)],
    ...['--parallelism', String(args.parallelism), '--checkpoint-ms', String(args.checkpointMs)],
    ...['--out-of-order-ms', String(OUT_OF_ORDER_MS), '--lateness-ms', String(LATENESS_MS)],
    ...(args.runTopics ? ['--run-topics', args.runTopics.join(',')] : []),
  ];
  const t0 = performance.now();
  const child = spawn('java', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-20_000);
  });
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  const wallS = (performance.now() - t0) / 1000;
  const events = out
    .split('\n')
    .filter((l) => l.startsWith('{"event"'))
    .map((l) => JSON.parse(l) as { event: string; cpuMs: number } & FlinkRun);
  const end = events.find((e) => e.event === 'end');
  if (code !== 0 || end === undefined) {
    throw new Error(`peers bench: the Flink job exited ${code}:\n${out.slice(-5_000)}\n${err.slice(-10_000)}`);
  }
  return {
    wallS,
    cpuS: end.cpuMs / 1000,
    mainCpuS: (events.find((e) => e.event === 'main')?.cpuMs ?? 0) / 1000,
    runs: events.filter((e) => e.event === 'run'),
  };
}

interface TickmeshRun {
  readonly wallS: number;
  /** CPU seconds of the whole process, start-up (node, tsx, connections) included. */
  readonly cpuS: number;
  /** CPU seconds from "worker running" to the last checkpoint at the topic's end. */
  readonly netCpuS: number;
  readonly netWallS: number;
}

async function tickmeshWorker(
  env: Endpoints,
  topic: string,
  schema: string,
  ends: Map<number, bigint>,
  db: pg.Client,
  /** Appends the closing trades after the timed part and returns the topic's new end offsets. */
  close?: () => Promise<Map<number, bigint>>,
  /** The topic whose late and rejected topics it writes to (the empty topic has none). */
  sideTopic = topic,
): Promise<TickmeshRun> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = await startWorkerProcess(env, [
    ...['--topic', topic, '--schema', schema, '--intervals', INTERVALS, '--port', String(port)],
    ...['--late-topic', `${sideTopic}.late`, '--rejected-topic', `${sideTopic}.rejected`],
  ]);
  const pid = proc.child.pid as number;
  const cpu0 = procCpu(pid);
  const t1 = performance.now();
  try {
    const reached = async (target: Map<number, bigint>) => {
      for (;;) {
        const { rows } = await db
          .query(`SELECT partition, next_offset FROM "${schema}".checkpoints WHERE topic = $1`, [topic])
          .catch(() => ({ rows: [] as { partition: number; next_offset: string | null }[] }));
        const committed = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset ?? 0)]));
        if ([...target].every(([p, end]) => (committed.get(p) ?? 0n) >= end)) return;
        await sleep(50);
      }
    };
    await reached(ends);
    const cpu1 = procCpu(pid);
    const t2 = performance.now();
    // The closing trades, not timed: tickmesh prints the empty minutes up to them (Flink has no
    // row for an empty window) and closes the history's last windows.
    if (close) await reached(await close());
    return { wallS: (t2 - t0) / 1000, cpuS: cpu1, netCpuS: cpu1 - cpu0, netWallS: (t2 - t1) / 1000 };
  } finally {
    await stopWorkerProcess(proc);
  }
}

interface Comparison {
  readonly equal: number;
  readonly differ: number;
  readonly onlyTickmesh: number;
  readonly onlyFlink: number;
  readonly example: string;
}

/**
 * Non-empty candles of tickmesh's table against Flink's, by key, every figure compared as an
 * exact numeric (numeric equality: 1.50 = 1.5); the closing trades' windows (from `before` on)
 * are left out.
 */
async function compareCandles(
  db: pg.Client,
  tmSchema: string,
  flinkTable: string,
  before: number,
): Promise<Comparison> {
  const figures = [
    'close_time',
    'market',
    'open',
    'high',
    'low',
    'close',
    'volume',
    'quote_volume',
    'trades',
    'taker_buy_volume',
    'taker_buy_quote_volume',
    'vwap',
    'first_trade_id',
    'last_trade_id',
  ];
  const differs = figures.map((f) => `t.${f} IS DISTINCT FROM f.${f}`).join(' OR ');
  const { rows } = await db.query(
    `WITH t AS (SELECT * FROM "${tmSchema}".candles WHERE trades > 0 AND open_time < to_timestamp($1 / 1000.0)),
    f AS (SELECT * FROM ${flinkTable} WHERE open_time < to_timestamp($1 / 1000.0)),
    j AS (SELECT t.symbol AS ts, f.symbol AS fs, (${differs}) AS differ,
                 concat_ws(' ', exchange, symbol, "interval", open_time) AS k
          FROM t FULL JOIN f USING (exchange, symbol, "interval", open_time))
    SELECT
      count(*) FILTER (WHERE ts IS NOT NULL AND fs IS NOT NULL AND NOT differ)::int AS equal,
      count(*) FILTER (WHERE ts IS NOT NULL AND fs IS NOT NULL AND differ)::int AS differ,
      count(*) FILTER (WHERE fs IS NULL)::int AS only_tickmesh,
      count(*) FILTER (WHERE ts IS NULL)::int AS only_flink,
      min(k) FILTER (WHERE differ OR ts IS NULL OR fs IS NULL) AS example
    FROM j`,
    [before],
  );
  const r = rows[0] as Record<string, number | string | null>;
  return {
    equal: Number(r.equal),
    differ: Number(r.differ),
    onlyTickmesh: Number(r.only_tickmesh),
    onlyFlink: Number(r.only_flink),
    example: String(r.example ?? ''),
  };
}

function checkEqual(c: Comparison, label: string): void {
  if (c.differ > 0 || c.onlyTickmesh > 0 || c.onlyFlink > 0 || c.equal === 0) {
    throw new Error(
      `peers bench: ${label}: candles differ (${c.equal} equal, ${c.differ} different, ${c.onlyTickmesh} only ` +
        `in tickmesh, ${c.onlyFlink} only in Flink; first: ${c.example})`,
    );
  }
}

/**
 * One trade per market at `at`, past the history's last hour: its watermark closes every window of
 * the history in tickmesh as the end of the bounded input does in Flink, so both tables hold the
 * same closed candles. The closing trades' own windows (open_time >= the hour) are left out of the
 * comparison.
 */
async function closingTrades(env: Endpoints, topic: string, prefix: string, at: number): Promise<void> {
  const producer = await createKafkaProducer({
    brokers: env.KAFKA_BROKERS.split(','),
    clientId: 'bench-peers-close',
    logger: silentLogger(),
    registry: createRegistry({}, false),
  });
  const trades: Trade[] = benchMarkets(prefix, MARKETS).map((m) => ({
    exchange: 'sim',
    symbol: m.market,
    market: m.market,
    tradeId: '1000000000',
    price: m.startPrice,
    size: m.lotSize,
    side: 'buy',
    eventTime: at,
    receiveTime: at,
    simulated: true,
  }));
  await producer.send(topic, recordsByMarket(trades));
  await producer.close();
}

async function emptyTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsAndWait(admin, [{ topic, numPartitions: PARTITIONS, configEntries: [...APPEND_TIME] }]);
  await admin.disconnect();
}

async function duckdbPeer(quick: boolean): Promise<BenchResult[]> {
  const c = await generated(quick ? 200_000 : 2_000_000, 1, false);
  const work = join(tmpdir(), `tickmesh-peers-${process.pid}`);
  await mkdir(work, { recursive: true });
  try {
    const mineOut = join(work, 'tickmesh.out');
    const mine = await tickmesh(ROOT, c.path, c.output, mineOut);
    const theirsOut = join(work, 'duckdb.csv');
    const theirs: Measured = await duckdb(c.path, 1, theirsOut);
    const compared = compare(tickmeshCandles(mineOut, c.output, c.symbol), duckdbCandles(theirsOut), c.label);
    return [
      {
        name: `DuckDB: ${c.label}, 1m candles, tickmesh candles' CPU seconds over DuckDB's (1 thread)`,
        value: Number((mine.cpuS / theirs.cpuS).toFixed(2)),
        unit: 'x',
        details: {
          'tickmesh candles': `${fmt(perCpuS(c.trades, mine.cpuS))} trades per CPU-second (${mine.cpuS.toFixed(2)} CPU s, ${mine.wallS.toFixed(2)} s, ${mine.rssMb.toFixed(0)} MB)`,
          'DuckDB, 1 thread': `${fmt(perCpuS(c.trades, theirs.cpuS))} trades per CPU-second (${theirs.cpuS.toFixed(2)} CPU s, ${theirs.wallS.toFixed(2)} s, ${theirs.rssMb.toFixed(0)} MB)`,
          'wall time, tickmesh over DuckDB': (mine.wallS / theirs.wallS).toFixed(2),
          'non-empty candles equal': compared,
          file: c.path,
        },
      },
    ];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const bench: Bench = {
  name: 'peers',
  description:
    'tickmesh worker vs a Flink job on the same topic (trades per CPU-second, candles equal), ' +
    'and tickmesh candles vs DuckDB on the same file',
  async run({ quick }): Promise<readonly BenchResult[]> {
    const total = Number(process.env.TICKMESH_BENCH_PEERS_TRADES) || (quick ? 200_000 : 2_000_000);
    const rounds = Number(process.env.TICKMESH_BENCH_PEERS_ROUNDS) || (quick ? 1 : 2);
    const parallelism = Number(process.env.TICKMESH_BENCH_PEERS_PARALLELISM) || 1;
    const checkpointMs = Number(process.env.TICKMESH_BENCH_PEERS_CHECKPOINT_MS ?? 1_000);
    const windows = process.env.TICKMESH_BENCH_PEERS_WINDOWS !== '0';
    ensureJar();
    const env = await servers();
    const tag = runTag();
    const topic = `bench-peers-${tag}`;
    const empty = `bench-peers-empty-${tag}`;
    const flinkSchema = `bench_peers_flink_${tag}`;
    const tmSchemas: string[] = [];
    const kafka = new Kafka({
      clientId: 'bench-peers',
      brokers: env.KAFKA_BROKERS.split(','),
      logLevel: logLevel.NOTHING,
    });
    const topics = await createTopics(kafka, topic);
    await emptyTopic(kafka, empty);
    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    const results: BenchResult[] = [];
    try {
      await db.query(`CREATE SCHEMA "${flinkSchema}"`);
      const prefix = `P${tag.toUpperCase()}N`;
      const loaded = await preload(env, topic, total, prefix);
      const admin = kafka.admin();
      await admin.connect();
      const offsets = async () =>
        new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
      const ends = await offsets();
      const emptyEnds = new Map((await admin.fetchTopicOffsets(empty)).map((o) => [o.partition, BigInt(o.high)]));
      // Past the end of the last hour of the history by the out-of-orderness: every window closes.
      const closeHour = Math.ceil((loaded.lastEvent + 1) / 3_600_000) * 3_600_000;
      process.stderr.write(`peers bench: ${fmt(total)} trades in ${fmt(loaded.records)} records on ${topic}\n`);

      const tm: TickmeshRun[] = [];
      const tmEmpty: TickmeshRun[] = [];
      const cold: FlinkProcess[] = [];
      const startUp: FlinkProcess[] = [];
      const warm: FlinkProcess[] = [];
      const windowed: FlinkProcess[] = [];
      const comparisons: string[] = [];
      const base = { env, parallelism, checkpointMs } as const;
      // Flink first in each round, tickmesh (empty topic, then the topic) last: after the last round's timed part, its worker
      // reads the closing trades (untimed) and closes the history's last windows, as Flink's end
      // of input does; its table is then compared with every Flink table.
      let lastSchema = '';
      const tables: string[] = [];
      for (let r = 1; r <= rounds; r++) {
        const c = await flink({ ...base, topic, table: `${flinkSchema}.cold_${r}`, runs: 1, shape: 'keyed' });
        cold.push(c);
        const e = await flink({ ...base, topic: empty, table: `${flinkSchema}.empty_${r}`, runs: 1, shape: 'keyed' });
        startUp.push(e);
        // The job, then the job on the empty topic, then the job again: all three in one JVM.
        const w = await flink({
          ...base,
          topic,
          table: `${flinkSchema}.warm_${r}`,
          runs: 3,
          runTopics: [topic, empty, topic],
          shape: 'keyed',
        });
        warm.push(w);
        tables.push(`${flinkSchema}.cold_${r}_1`, `${flinkSchema}.warm_${r}_3`);
        process.stderr.write(
          `peers bench: round ${r}: Flink cold ${JSON.stringify(c)} empty ${e.cpuS} warm ${JSON.stringify(w.runs)}\n`,
        );
        if (windows && r === 1) {
          const v = await flink({ ...base, topic, table: `${flinkSchema}.windows_${r}`, runs: 2, shape: 'windows' });
          windowed.push(v);
          tables.push(`${flinkSchema}.windows_${r}_2`);
          process.stderr.write(`peers bench: round ${r}: Flink windows ${JSON.stringify(v.runs)}\n`);
        }
        const schema = `bench_peers_tm_${tag}_${r}`;
        tmSchemas.push(schema);
        lastSchema = schema;
        const close =
          r === rounds
            ? async () => {
                await closingTrades(env, topic, prefix, closeHour + OUT_OF_ORDER_MS + 1);
                return offsets();
              }
            : undefined;
        // Its fixed start-up (node, tsx, connections, assignment) on the empty topic.
        const emptySchema = `bench_peers_tm_${tag}_${r}_empty`;
        tmSchemas.push(emptySchema);
        const te = await tickmeshWorker(env, empty, emptySchema, emptyEnds, db, undefined, topic);
        tmEmpty.push(te);
        const t = await tickmeshWorker(env, topic, schema, ends, db, close);
        tm.push(t);
        process.stderr.write(`peers bench: round ${r}: tickmesh ${JSON.stringify(t)} empty ${JSON.stringify(te)}\n`);
      }
      await admin.disconnect();
      for (const table of tables) {
        const cmp = await compareCandles(db, lastSchema, table, closeHour);
        checkEqual(cmp, table);
        comparisons.push(`${table}: ${fmt(cmp.equal)} equal`);
      }

      // The median round of each, by CPU; with two rounds, the lower.
      const mid = <T>(xs: readonly T[], cpu: (x: T) => number): T =>
        [...xs].sort((a, b) => cpu(a) - cpu(b))[Math.floor((xs.length - 1) / 2)] as T;
      const tmWhole = mid(tm, (x) => x.cpuS).cpuS;
      const tmEmptyS = mid(tmEmpty, (x) => x.cpuS).cpuS;
      // Net of the start-up as Flink's: the whole process less the same process on the empty topic.
      // (CPU read at its "worker running" line is not a start-up bound: the worker may already
      // have consumed much of the topic by the time the line is read.)
      const tmNet = tmWhole - tmEmptyS;
      const flinkWhole = mid(cold, (x) => x.cpuS).cpuS;
      const flinkEmpty = mid(startUp, (x) => x.cpuS).cpuS;
      const flinkNet = flinkWhole - flinkEmpty;
      const runCpuS = (x: FlinkProcess, i: number) => (x.runs[i]?.cpuMs ?? 0) / 1000;
      const flinkWarmS = runCpuS(
        mid(warm, (x) => runCpuS(x, 2)),
        2,
      );
      const warmEmptyS = runCpuS(
        mid(warm, (x) => runCpuS(x, 1)),
        1,
      );
      const flinkWarmNetS = flinkWarmS - warmEmptyS;
      const windowsWarmS = windows ? (mid(windowed, (x) => x.runs[1]?.cpuMs ?? 0).runs[1]?.cpuMs ?? 0) / 1000 : 0;
      const emptyRun = mid(startUp, (x) => x.cpuS);
      const late = warm.map((w) => w.runs.map((r) => r.late).join('/')).join(', ');
      const setup = {
        trades: total,
        markets: MARKETS,
        partitions: PARTITIONS,
        intervals: INTERVALS,
        records: `${fmt(loaded.records)} (trade-batch.v1, Kafka zstd batches)`,
        rounds,
      };
      const row = (figure: number, cpuS: number) => `${fmt(figure)} trades per CPU-second (${cpuS.toFixed(2)} CPU s)`;
      results.push(
        {
          name: 'tickmesh worker, net of the same worker on the empty topic',
          value: perCpuS(total, tmNet),
          unit: 'trades per CPU-second',
          details: {
            ...setup,
            whole: row(perCpuS(total, tmWhole), tmWhole),
            'empty topic (its fixed start-up)': `${tmEmptyS.toFixed(2)} CPU s`,
            rounds: tm
              .map(
                (t) =>
                  `${t.netCpuS.toFixed(2)} CPU s after "worker running", ${t.cpuS.toFixed(2)} whole, ${t.wallS.toFixed(1)} s`,
              )
              .join('; '),
          },
        },
        {
          name: 'Flink, one keyed operator for all intervals: warm (the third job in one JVM)',
          value: perCpuS(total, flinkWarmS),
          unit: 'trades per CPU-second',
          details: {
            'warm, net of the empty job in the same JVM': row(perCpuS(total, flinkWarmNetS), flinkWarmNetS),
            'cold, whole JVM': row(perCpuS(total, flinkWhole), flinkWhole),
            'cold, net of the empty job': row(perCpuS(total, flinkNet), flinkNet),
            'empty job (its fixed start-up)': `${flinkEmpty.toFixed(2)} CPU s, ${(flinkEmpty - emptyRun.mainCpuS).toFixed(2)} of them after the JVM's own start`,
            'runs in one JVM, CPU s (job/empty job/job)': warm
              .map((w) => w.runs.map((r) => (r.cpuMs / 1000).toFixed(2)).join('/'))
              .join(', '),
            'trades dropped as too late (per interval window)': late,
            config: `parallelism ${parallelism}, hashmap state backend, object reuse, watermark interval 200 ms, checkpoints every ${checkpointMs} ms (exactly once), bounded KafkaSource`,
            ...(windows
              ? { 'a window operator per interval, warm': row(perCpuS(total, windowsWarmS), windowsWarmS) }
              : {}),
          },
        },
        {
          name: "tickmesh's trades per CPU-second over Flink's warm (target >= 3)",
          value: Number((flinkWarmS / tmNet).toFixed(2)),
          unit: 'x',
          details: {
            'over Flink warm, net of its empty job': (flinkWarmNetS / tmNet).toFixed(2),
            'over Flink cold, whole': (flinkWhole / tmWhole).toFixed(2),
            'over Flink cold, net of start-up': (flinkNet / tmNet).toFixed(2),
            ...(windows
              ? { 'over Flink warm, a window operator per interval': (windowsWarmS / tmNet).toFixed(2) }
              : {}),
            'candles compared': comparisons.join('; '),
          },
        },
      );
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS "${flinkSchema}" CASCADE`).catch(() => {});
      await db.end().catch(() => {});
      for (const s of tmSchemas) await cleanup(env, kafka, [], s, `${s}:*`);
      await cleanup(env, kafka, [...topics, empty], `${flinkSchema}_none`, `${flinkSchema}:none`);
    }
    results.push(...(await duckdbPeer(quick)));
    return results;
  },
};

export default bench;
