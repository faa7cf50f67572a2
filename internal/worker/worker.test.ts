import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sharedData } from '../../test/harness/shared-data.js';
import { testWorkerConfig } from '../../test/support/test-worker-config.js';
import { actorConfig } from '../actor/config.js';
import { MarketActor } from '../actor/market-actor.js';
import { createActorOutput } from '../actor/output.js';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import { readTradeFile } from '../ingest/files/index.js';
import { createMemoryLog, type MemoryLog } from '../log/memory-log.js';
import { partitionForKey } from '../log/partitioner.js';
import { tradeRecord } from '../log/record.js';
import type { Candle } from '../market/candle.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import type { Trade } from '../market/trade.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { FencedError } from '../runtime/errors.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../sink/pglite-store.js';
import type { CandleQuery } from '../sink/store.js';
import { marketActorFactory } from './market-actors.js';
import { createWorkerMetrics } from './metrics.js';
import { createWorker, type Worker } from './worker.js';

const DATA = (file: string) => sharedData('binance-um-btcusdt-2020-02-22', file);
const TOPIC = 'tickmesh.trades.v1';
const PARTITIONS = 4;

async function loadTrades(): Promise<Trade[]> {
  const trades: Trade[] = [];
  for await (const item of readTradeFile({ path: DATA('trades.csv'), format: 'tardis' })) {
    if (item.kind === 'trade') trades.push(item.trade);
  }
  return trades;
}

const config = testWorkerConfig(TOPIC, {
  late: 'tickmesh.trades.late.v1',
  rejected: 'tickmesh.trades.rejected.v1',
});

interface Setup {
  log: MemoryLog;
  store: PgliteStore;
  bus: MemoryBus;
}

function newWorker(s: Setup, maxBatchRecords = 250, clock: () => number = Date.now): Worker {
  return createWorker({
    consumer: s.log.consumer(TOPIC, { maxBatchRecords }),
    producer: s.log.producer(),
    store: s.store,
    bus: s.bus,
    cache: createMemoryCache(),
    actors: marketActorFactory(actorConfig({ intervals: ['1m', '5m', '15m', '1h'], partialUpdates: false })),
    logger: silentLogger(),
    metrics: createWorkerMetrics(createRegistry({}, false)),
    clock,
    config,
  });
}

async function committedAt(s: Setup, partition: number, offset: bigint): Promise<void> {
  const committed = async () => (await s.store.loadCheckpoint(TOPIC, partition))?.nextOffset ?? 0n;
  await expect.poll(committed, { timeout: 50_000, interval: 20 }).toBeGreaterThanOrEqual(offset);
}

async function runToEnd(s: Setup, epoch: number): Promise<void> {
  const w = newWorker(s);
  await w.start(AbortSignal.timeout(120_000));
  for (let p = 0; p < PARTITIONS; p++) await w.assign(p, epoch);
  const end = await s.log.admin().endOffsets(TOPIC);
  const atEnd = async () => {
    const offsets = await Promise.all([...end.keys()].map((p) => s.store.loadCheckpoint(TOPIC, p)));
    return offsets.every((c, p) => (c?.nextOffset ?? 0n) >= (end.get(p) ?? 0n));
  };
  await vi.waitUntil(atEnd, { timeout: 110_000, interval: 20 });
  await w.drain();
}

/** Every stored row of the trades' markets, by market then interval, read by `load` (candles or indicators). */
async function allRows<T>(trades: readonly Trade[], load: (q: CandleQuery) => Promise<T[]>): Promise<T[]> {
  const markets = [...new Map(trades.map((t) => [`${t.exchange}:${t.symbol}`, t])).values()];
  const rows: T[] = [];
  for (const m of markets) {
    for (const interval of ['1m', '5m', '15m', '1h'] as const) {
      rows.push(...(await load({ exchange: m.exchange, symbol: m.symbol, interval, from: 0, limit: 100_000 })));
    }
  }
  return rows;
}

const allCandles = (store: PgliteStore, trades: readonly Trade[]) => allRows(trades, (q) => store.candles(q));
const allIndicators = (store: PgliteStore, trades: readonly Trade[]) => allRows(trades, (q) => store.indicators(q));

async function setup(trades: readonly Trade[]): Promise<Setup> {
  const log = createMemoryLog();
  await log.admin().ensureTopic(TOPIC, PARTITIONS);
  await log.producer().send(TOPIC, trades.map(tradeRecord));
  const store = await createPgliteStore();
  await store.migrate();
  return { log, store, bus: createMemoryBus() };
}

describe('worker on the in-process adapters', () => {
  let trades: Trade[];
  let reference: Candle[];
  let referenceIndicators: IndicatorValues[];
  const stores: PgliteStore[] = [];

  beforeAll(async () => {
    trades = await loadTrades();
    const s = await setup(trades);
    stores.push(s.store);
    await runToEnd(s, 1);
    reference = await allCandles(s.store, trades);
    referenceIndicators = await allIndicators(s.store, trades);
  }, 120_000);

  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it('builds the exchange klines from the real BTCUSDT trades through log, actors and store', () => {
    expect(trades).toHaveLength(9_999);
    const klines = readFileSync(DATA('klines-1m.csv'), 'utf8').trim().split('\n');
    const byOpen = new Map(reference.filter((c) => c.interval === '1m').map((c) => [c.openTime, c]));
    // SOURCE.md: the full minutes are 00:01 .. 02:04; 00:00 and 02:05 are partial in the trade file.
    const first = Date.UTC(2020, 1, 22, 0, 1);
    const last = Date.UTC(2020, 1, 22, 2, 4);
    let compared = 0;
    for (const line of klines) {
      const [openTime, open, high, low, close, volume, , , count, takerBuyVolume] = line.split(',');
      if (Number(openTime) < first || Number(openTime) > last) continue;
      const c = byOpen.get(Number(openTime));
      expect(c, `candle ${openTime}`).toBeDefined();
      if (!c) continue;
      compared++;
      expect([c.open, c.high, c.low, c.close, c.volume, c.trades, c.takerBuyVolume].map(Number)).toEqual(
        [open, high, low, close, volume, count, takerBuyVolume].map(Number),
      );
    }
    expect(compared).toBe(124);
  });

  it('commits the indicators of every closed candle beside it, as the actor computed them', () => {
    expect(referenceIndicators.map((v) => `${v.interval}@${v.openTime}`)).toEqual(
      reference.map((c) => `${c.interval}@${c.openTime}`),
    );
    const actor = new MarketActor(
      { exchange: 'binance-futures', symbol: 'BTCUSDT', market: 'BTC-USDT' },
      actorConfig({ intervals: ['1m', '5m', '15m', '1h'], partialUpdates: false }),
    );
    const out = createActorOutput();
    for (const t of trades) actor.onTrade(t, 0, out);
    const computed = new Map(out.indicators.map((v) => [`${v.interval}@${v.openTime}`, v]));
    expect(computed.size).toBeGreaterThan(100);
    let compared = 0;
    for (const v of referenceIndicators) {
      const want = computed.get(`${v.interval}@${v.openTime}`);
      if (want === undefined) continue; // closed by the worker's watermark after the last trade
      expect(v).toEqual(JSON.parse(JSON.stringify(want)));
      compared++;
    }
    expect(compared).toBe(computed.size);
    expect(referenceIndicators.filter((v) => v.interval === '1m' && v.volatility !== null).length).toBeGreaterThan(50);
  });

  it('leaves the candle table identical after crashes at random points', async () => {
    const s = await setup(trades);
    stores.push(s.store);
    let epoch = 1;
    // A crash: close() abandons queued batches and any commit not yet done, as SIGKILL would.
    for (let crash = 0; crash < 8; crash++) {
      const w = newWorker(s, 1 + Math.floor(Math.random() * 400));
      await w.start(AbortSignal.timeout(120_000));
      for (let p = 0; p < PARTITIONS; p++) await w.assign(p, epoch);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 40));
      await w.close();
      epoch++;
    }
    await runToEnd(s, epoch);
    expect(await allCandles(s.store, trades)).toEqual(reference);
    expect(await allIndicators(s.store, trades)).toEqual(referenceIndicators);
  }, 120_000);

  it("measures each partition's input rate from the log's high watermark, and its lag", async () => {
    const s = await setup(trades.slice(0, 100));
    stores.push(s.store);
    let now = 1_000_000;
    const w = newWorker(s, 250, () => now);
    await w.start(AbortSignal.timeout(30_000));
    const p = partitionForKey(`${trades[0]!.exchange}:${trades[0]!.symbol}`, PARTITIONS);
    await w.assign(p, 3);
    await committedAt(s, p, 100n);
    expect(w.partitionLoads(now)).toEqual([{ partition: p, epoch: 3, paused: false, rate: undefined, lag: 0 }]);
    // 1,000 more records five seconds later (the first rate is a mean over 5 s): 200 records/s.
    now += 5_000;
    await s.log.producer().send(TOPIC, trades.slice(100, 1_100).map(tradeRecord));
    await committedAt(s, p, 1_100n);
    const [load] = w.partitionLoads(now);
    expect(load?.rate).toBeCloseTo(200, 6);
    expect(load?.lag).toBe(0);
    // Nothing more arrives: the rate decays (time constant 10 s).
    expect(w.partitionLoads(now + 10_000)[0]?.rate).toBeCloseTo(200 * Math.exp(-1), 6);
    await w.drain();
  }, 60_000);

  it('refuses a worker whose epoch is older than the partition holder', async () => {
    const s = await setup(trades.slice(0, 100));
    stores.push(s.store);
    const fresh = newWorker(s);
    await fresh.start(AbortSignal.timeout(30_000));
    await fresh.assign(0, 5);
    const stale = newWorker(s);
    await stale.start(AbortSignal.timeout(30_000));
    await expect(stale.assign(0, 4)).rejects.toBeInstanceOf(FencedError);
    await fresh.drain();
    await stale.drain();
  }, 60_000);

  it('a partition that fails for good makes the worker unhealthy and resolves `failed`, naming the partition', async () => {
    const s = await setup(trades.slice(0, 2_000));
    stores.push(s.store);
    // A commit error that is neither a data error nor retriable (a programming error).
    const broken = Object.assign(Object.create(s.store) as PgliteStore, {
      commit: async () => {
        throw Object.assign(new Error('column "revision" does not exist'), { code: '42703' });
      },
    });
    const w = newWorker({ ...s, store: broken });
    await w.start(AbortSignal.timeout(30_000));
    expect(w.healthy()).toBe(true);
    const partition = partitionForKey(`${trades[0]!.exchange}:${trades[0]!.symbol}`, PARTITIONS);
    await w.assign(partition, 1);
    const failure = await w.failed;
    expect(failure.message).toMatch(new RegExp(`partition ${partition} failed: .*revision`));
    expect(w.healthy()).toBe(false);
    expect(w.notReadyReason()).toMatch(`partition ${partition} failed`);
    expect(w.partitions().size).toBe(0);
    await w.close();
  }, 60_000);
});
