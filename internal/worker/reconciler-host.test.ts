import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeMinutes, EXCHANGE, MINUTE } from '../../test/support/binance-futures-capture.js';
import { actorConfig } from '../actor/config.js';
import { createMemoryBus } from '../bus/memory-bus.js';
import { createMemoryLog, type MemoryLog } from '../log/memory-log.js';
import { tradeRecord } from '../log/record.js';
import type { Trade } from '../market/trade.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../sink/pglite-store.js';
import { encodeKlineRecord, KLINES_TOPIC, type KlineRecord, klineRecordKey } from '../verify/kline-record.js';
import type { VerificationEvent } from '../verify/verification.js';
import { marketActorFactory } from './market-actors.js';
import { createWorkerMetrics } from './metrics.js';
import { createReconcilerHost, type ReconcilerHost, type ReconcilerHostConfig } from './reconciler-host.js';
import { createVerificationMetrics } from './verification-metrics.js';
import { createWorker, type Worker, type WorkerConfig } from './worker.js';

const TRADES = 'tickmesh.trades.v1';
const PARTITIONS = 4;
const encoder = new TextEncoder();

const workerConfig: WorkerConfig = {
  topic: TRADES,
  outputTopics: { late: 'late', rejected: 'rejected' },
  partition: {
    checkpointIntervalMs: 0,
    maxPendingRows: 500,
    mailboxCapacity: 8,
    pauseAt: 4,
    resumeAt: 1,
    outOfOrdernessMs: 2_000,
    idleGraceMs: 5_000,
    clockWatermark: false,
    liveWindowMs: 60_000,
  },
  tickMs: 5,
  liveCacheIntervalMs: 0,
  drainTimeoutMs: 30_000,
  retention: {},
  retentionEveryMs: 3_600_000,
};

const hostConfig: ReconcilerHostConfig = {
  topic: KLINES_TOPIC,
  partitions: PARTITIONS,
  intervals: ['1m'],
  waitMs: 400,
  settleMs: 1_000,
  maxWindows: 8,
  commitIntervalMs: 0,
  tickMs: 10,
  horizonMs: 3_600_000,
};

/** A trade two minutes after the capture's minute: it closes that minute and the empty one after it. */
function closing(t: Trade): Trade {
  const at = MINUTE + 150_000;
  return { ...t, tradeId: '999999999', eventTime: at, receiveTime: at, tradeCount: 1 };
}

interface Running {
  worker: Worker;
  host: ReconcilerHost;
  stop(): Promise<void>;
}

async function run(log: MemoryLog, store: PgliteStore, bus = createMemoryBus()): Promise<Running> {
  const host = createReconcilerHost({
    consumer: log.consumer(KLINES_TOPIC),
    store,
    bus,
    logger: silentLogger(),
    metrics: createVerificationMetrics(createRegistry({}, false)),
    clock: Date.now,
    config: hostConfig,
  });
  const worker = createWorker({
    consumer: log.consumer(TRADES),
    producer: log.producer(),
    store,
    bus,
    cache: createMemoryCache(),
    actors: marketActorFactory(actorConfig({ intervals: ['1m'], partialUpdates: false })),
    logger: silentLogger(),
    metrics: createWorkerMetrics(createRegistry({}, false)),
    clock: Date.now,
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

async function setup(n: number): Promise<{ log: MemoryLog; store: PgliteStore }> {
  const log = createMemoryLog();
  await log.admin().ensureTopic(TRADES, PARTITIONS);
  await log.admin().ensureTopic(KLINES_TOPIC, PARTITIONS);
  await log.admin().ensureTopic('late', PARTITIONS);
  await log.admin().ensureTopic('rejected', PARTITIONS);
  const store = await createPgliteStore({ database: shared, schema: `reconcile_${n}` });
  await store.migrate();
  return { log, store };
}

const klineRecords = (klines: readonly KlineRecord[]) =>
  klines.map((k) => ({ key: klineRecordKey(k), value: encoder.encode(encodeKlineRecord(k)) }));

async function verification(store: PgliteStore, symbol: string, openTime: number) {
  const rows = await store.candles({ exchange: EXCHANGE, symbol, interval: '1m', from: openTime, to: openTime + 1 });
  return rows[0]?.verification;
}

let shared: PGlite;
beforeAll(async () => {
  shared = await PGlite.create();
}, 120_000);
afterAll(async () => {
  await shared?.close();
});

describe('reconciler host beside the market actors', () => {
  it('verifies the complete minutes of the Binance USD-M capture, names a removed trade, waits out a missing kline', async () => {
    const { log, store } = await setup(1);
    const bus = createMemoryBus();
    const events: VerificationEvent[] = [];
    const sub = bus.subscribe('tickmesh.verification.>');
    void (async () => {
      for await (const m of sub) events.push(JSON.parse(new TextDecoder().decode(m.data)) as VerificationEvent);
    })();
    const minutes = completeMinutes();
    expect(minutes.map((m) => m.symbol).sort()).toEqual(['CTKUSDT', 'KEEPUSDT', 'SUSHIUSDT']);
    const producer = log.producer();
    // The venue's klines first (as live: Binance's final push comes at the close), then the trades.
    await producer.send(KLINES_TOPIC, klineRecords(minutes.map((m) => m.final)));
    for (const m of minutes) {
      // KEEPUSDT loses its first trade on the way in.
      const trades = m.symbol === 'KEEPUSDT' ? m.trades.slice(1) : m.trades;
      await producer.send(
        TRADES,
        [...trades, closing(m.trades.at(-1) as Trade)].map((t) => tradeRecord(t)),
      );
    }
    const r = await run(log, store, bus);
    try {
      await expect
        .poll(async () => (await verification(store, 'SUSHIUSDT', MINUTE))?.status, { timeout: 30_000 })
        .toBe('verified');
      expect((await verification(store, 'CTKUSDT', MINUTE))?.status).toBe('verified');
      const keep = await verification(store, 'KEEPUSDT', MINUTE);
      expect(keep?.status).toBe('mismatch');
      const keepMinute = minutes.find((m) => m.symbol === 'KEEPUSDT');
      const removed = keepMinute?.trades[0]?.tradeCount ?? 1;
      const theirs = keepMinute?.final.kline.trades ?? 0;
      expect(keep?.differences).toContainEqual({
        field: 'trades',
        ours: String(theirs - removed),
        theirs: String(theirs),
      });
      expect(keep?.differences?.map((d) => d.field)).toEqual(
        expect.arrayContaining(['volume', 'quoteVolume', 'trades']),
      );
      // The minute after has no kline at all: unverifiable once the wait is over.
      await expect
        .poll(async () => (await verification(store, 'SUSHIUSDT', MINUTE + 60_000))?.status, { timeout: 30_000 })
        .toBe('unverifiable');
      await expect.poll(() => events.filter((e) => e.openTime === MINUTE).length).toBe(3);
      expect(events.find((e) => e.symbol === 'KEEPUSDT' && e.openTime === MINUTE)?.status).toBe('mismatch');
    } finally {
      sub.unsubscribe();
      await r.stop();
    }
  }, 120_000);

  it('judges after a restart a candle committed before it, with the kline that comes after', async () => {
    const { log, store } = await setup(2);
    const [m] = completeMinutes();
    if (m === undefined) throw new Error('no complete minute');
    const producer = log.producer();
    await producer.send(
      TRADES,
      [...m.trades, closing(m.trades.at(-1) as Trade)].map((t) => tradeRecord(t)),
    );
    const first = await run(log, store);
    await expect
      .poll(
        async () =>
          (await store.candles({ exchange: EXCHANGE, symbol: m.symbol, interval: '1m', from: MINUTE, to: MINUTE + 1 }))
            .length,
        {
          timeout: 30_000,
        },
      )
      .toBe(1);
    // Gone before the kline came (close() commits nothing: as a SIGKILL, from the store's view).
    await first.worker.close();
    await first.host.close();
    expect(await verification(store, m.symbol, MINUTE)).toBeUndefined();
    await producer.send(KLINES_TOPIC, klineRecords([m.final]));
    const second = await run(log, store);
    try {
      await expect
        .poll(async () => (await verification(store, m.symbol, MINUTE))?.status, { timeout: 30_000 })
        .toBe('verified');
    } finally {
      await second.stop();
    }
  }, 120_000);
});
