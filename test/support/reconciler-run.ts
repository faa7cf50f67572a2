import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll } from 'vitest';
import { actorConfig } from '../../internal/actor/config.js';
import { createMemoryBus, type MemoryBus } from '../../internal/bus/memory-bus.js';
import { createMemoryLog, type MemoryLog } from '../../internal/log/memory-log.js';
import { tradeRecord } from '../../internal/log/record.js';
import type { Interval } from '../../internal/market/interval.js';
import type { Trade } from '../../internal/market/trade.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { createMemoryCache } from '../../internal/sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../../internal/sink/pglite-store.js';
import {
  encodeKlineRecord,
  KLINES_TOPIC,
  type KlineRecord,
  klineRecordKey,
} from '../../internal/verify/kline-record.js';
import { marketActorFactory } from '../../internal/worker/market-actors.js';
import { createWorkerMetrics } from '../../internal/worker/metrics.js';
import {
  createReconcilerHost,
  type ReconcilerHost,
  type ReconcilerHostConfig,
} from '../../internal/worker/reconciler-host.js';
import { createVerificationMetrics } from '../../internal/worker/verification-metrics.js';
import { createWorker, type Worker } from '../../internal/worker/worker.js';
import { testWorkerConfig } from './test-worker-config.js';

/**
 * A worker and its reconciler host over an in-memory log and a PGlite store, as the worker
 * process runs them: trades on the trades topic, the venue's kline records on the klines topic,
 * each candle's verification in its row.
 */
export const TRADES = 'tickmesh.trades.v1';
const PARTITIONS = 4;
const encoder = new TextEncoder();

const workerConfig = testWorkerConfig(TRADES, { late: 'late', rejected: 'rejected' });

export function hostConfig(intervals: readonly Interval[] = ['1m']): ReconcilerHostConfig {
  return {
    topic: KLINES_TOPIC,
    partitions: PARTITIONS,
    intervals,
    waitMs: 400,
    settleMs: 1_000,
    maxWindows: 8,
    commitIntervalMs: 0,
    tickMs: 10,
    horizonMs: 3_600_000,
  };
}

export interface Running {
  worker: Worker;
  host: ReconcilerHost;
  stop(): Promise<void>;
}

export interface RunOptions {
  readonly bus?: MemoryBus;
  readonly intervals?: readonly Interval[];
  /** The clock of both (default the wall clock, long past every capture's windows). */
  readonly clock?: () => number;
}

export async function runReconciling(log: MemoryLog, store: PgliteStore, options: RunOptions = {}): Promise<Running> {
  const bus = options.bus ?? createMemoryBus();
  const intervals = options.intervals ?? ['1m'];
  const clock = options.clock ?? Date.now;
  const host = createReconcilerHost({
    consumer: log.consumer(KLINES_TOPIC),
    store,
    bus,
    logger: silentLogger(),
    metrics: createVerificationMetrics(createRegistry({}, false)),
    clock,
    config: hostConfig(intervals),
  });
  const worker = createWorker({
    consumer: log.consumer(TRADES),
    producer: log.producer(),
    store,
    bus,
    cache: createMemoryCache(),
    actors: marketActorFactory(actorConfig({ intervals: [...intervals], partialUpdates: false })),
    logger: silentLogger(),
    metrics: createWorkerMetrics(createRegistry({}, false)),
    clock,
    config: workerConfig,
    companion: host,
  });
  const controller = new AbortController();
  await host.start(controller.signal);
  await worker.start(controller.signal);
  for (let p = 0; p < PARTITIONS; p++) await worker.assign(p, 1);
  return {
    worker,
    host,
    stop: async () => {
      await worker.drain();
      await host.drain();
      controller.abort();
    },
  };
}

/** A fresh log with the worker's topics and a migrated store in its own schema of `database`. */
export async function setupReconciling(
  database: PGlite,
  schema: string,
): Promise<{ log: MemoryLog; store: PgliteStore }> {
  const log = createMemoryLog();
  for (const topic of [TRADES, KLINES_TOPIC, 'late', 'rejected']) await log.admin().ensureTopic(topic, PARTITIONS);
  const store = await createPgliteStore({ database, schema });
  await store.migrate();
  return { log, store };
}

export const klineRecords = (klines: readonly KlineRecord[]) =>
  klines.map((k) => ({ key: klineRecordKey(k), value: encoder.encode(encodeKlineRecord(k)) }));

/** A trade like `t` at `at`: it closes `t`'s window (and the empty ones up to `at`). */
export function closingTrade(t: Trade, at: number): Trade {
  return { ...t, tradeId: '999999999999', eventTime: at, receiveTime: at, tradeCount: 1 };
}

export async function verificationOf(
  store: PgliteStore,
  exchange: string,
  symbol: string,
  openTime: number,
  interval: Interval = '1m',
) {
  const rows = await store.candles({ exchange, symbol, interval, from: openTime, to: openTime + 1 });
  return rows[0]?.verification;
}

/**
 * One PGlite for a test file, created before its tests and closed after them; each `setup()` is
 * a fresh log and a migrated store in a schema of its own (`prefix_1`, `prefix_2`, ...).
 */
export function reconcilingDatabase(prefix: string): {
  setup: () => Promise<{ log: MemoryLog; store: PgliteStore }>;
} {
  let database: PGlite | undefined;
  let schemas = 0;
  beforeAll(async () => {
    database = await PGlite.create();
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });
  return {
    setup: () => {
      if (database === undefined) throw new Error('reconcilingDatabase: used outside a test');
      return setupReconciling(database, `${prefix}_${++schemas}`);
    },
  };
}

/**
 * `klines`, then one market's `trades` and a trade closing them at `closeAt`, through a
 * reconciler host over a fresh schema of `db`; `status(openTime)` reads the judgement of that
 * market's 1m candle. Stop `running` when done.
 */
export async function replayMarket(
  db: ReturnType<typeof reconcilingDatabase>,
  trades: readonly Trade[],
  klines: readonly KlineRecord[],
  closeAt: number,
): Promise<{ running: Running; status: (openTime: number) => ReturnType<typeof verificationOf> }> {
  const { log, store } = await db.setup();
  const producer = log.producer();
  await producer.send(KLINES_TOPIC, klineRecords(klines));
  const last = trades.at(-1) as Trade;
  await producer.send(
    TRADES,
    [...trades, closingTrade(last, closeAt)].map((t) => tradeRecord(t)),
  );
  const running = await runReconciling(log, store);
  return { running, status: (openTime) => verificationOf(store, last.exchange, last.symbol, openTime) };
}
