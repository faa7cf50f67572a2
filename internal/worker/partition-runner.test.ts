import { describe, expect, it } from 'vitest';
import { actorConfig } from '../actor/config.js';
import type { ActorOutput } from '../actor/output.js';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import { ALERTS_STREAM, CANDLES_STREAM } from '../bus/subject-names.js';
import type { LogProducer, LogRecord, OutgoingRecord } from '../log/log.js';
import { createMemoryLog } from '../log/memory-log.js';
import { tradeRecord } from '../log/record.js';
import { encodeTradeBatch, TRADE_BATCH_HEADERS } from '../log/trade-batch.js';
import type { Candle } from '../market/candle.js';
import type { Trade } from '../market/trade.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { UnavailableError } from '../runtime/errors.js';
import { createMemoryCache, MemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../sink/pglite-store.js';
import type { CommitBatch, Store } from '../sink/store.js';
import type { MarketActorPort } from './actor-port.js';
import { marketActorFactory } from './market-actors.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { PartitionOutputs } from './outputs.js';
import { PartitionRunner } from './partition-runner.js';

const base: Trade = {
  exchange: 'binance',
  symbol: 'BTCUSDT',
  market: 'BTC-USDT',
  tradeId: '1',
  price: '100.00',
  size: '1.0',
  side: 'buy',
  eventTime: Date.UTC(2024, 0, 1),
  receiveTime: Date.UTC(2024, 0, 1),
};

function records(trades: readonly (Trade | Uint8Array)[], from = 0): LogRecord[] {
  return trades.map((t, i) => {
    const r =
      t instanceof Uint8Array ? { key: 'binance:BTCUSDT', value: t, headers: {} } : { headers: {}, ...tradeRecord(t) };
    return { partition: 0, offset: BigInt(from + i), key: r.key, value: r.value, headers: r.headers, timestamp: 0 };
  });
}

/** The append-to-publish histogram holds `count` observations summing to `seconds`. */
async function expectAppendToPublish(metrics: WorkerMetrics, count: number, seconds: number): Promise<void> {
  const h = (await metrics.appendToPublish.get()).values;
  expect(h.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(count);
  expect(h.find((v) => v.metricName?.endsWith('_sum'))?.value).toBeCloseTo(seconds, 9);
}

/** A wrap for openRunner: each market actor runs `effect` before each trade it is fed. */
function beforeEachTrade(effect: () => void): (actor: MarketActorPort) => MarketActorPort {
  return (actor) =>
    Object.assign(Object.create(actor) as MarketActorPort, {
      onTrade: (...args: Parameters<MarketActorPort['onTrade']>) => {
        effect();
        return actor.onTrade(...args);
      },
      onTradeRow: (...args: Parameters<MarketActorPort['onTradeRow']>) => {
        effect();
        return actor.onTradeRow(...args);
      },
    });
}

/** Enqueues `n` batches of one trade each (ids 1..n, offsets 0..n-1), record i appended at `appendedAt(i)`. */
async function enqueueSingleTrades(
  runner: PartitionRunner,
  n: number,
  signal: AbortSignal,
  appendedAt: (i: number) => number = () => 0,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    const trade = { ...base, tradeId: String(i + 1), eventTime: base.eventTime + i };
    const batch = records([trade], i).map((r) => ({ ...r, timestamp: appendedAt(i) }));
    await runner.enqueue({ topic: 't', partition: 0, records: batch, highWatermark: BigInt(n) }, signal);
  }
}

/** A memory cache that records the trade count of every partial candle written to it. */
class PartialsCache extends MemoryCache {
  readonly partials: number[] = [];
  override async putCandles(candles: readonly Candle[]): Promise<boolean[]> {
    for (const c of candles) if (!c.closed) this.partials.push(c.trades);
    return super.putCandles(candles);
  }
}

interface RunnerOptions {
  cache?: MemoryCache;
  clock?: () => number;
  partialMinIntervalMs?: number;
  /** Default 0: the cache gets every live update at once. */
  liveCacheIntervalMs?: number;
  /** Default 0: a checkpoint after every batch. */
  checkpointIntervalMs?: number;
  /** Default none: state-only checkpoints as often as the others. */
  stateCheckpointIntervalMs?: number;
  /** Default false: the partition never follows the clock. */
  clockWatermark?: boolean;
  bus?: MemoryBus;
  /** Wraps each market actor the runner creates. */
  wrap?: (actor: MarketActorPort) => MarketActorPort;
  /** Default: an in-process log with the late and rejected topics. */
  producer?: LogProducer;
}

/**
 * What every test starts from: fresh worker metrics, a migrated in-process store, the runner of
 * partition 0 of topic `t` on them (see openRunner) and a signal for its run. `front` puts a
 * test's store in front of the real one (the runner commits through it); `store` is the real one.
 */
async function setup(live: RunnerOptions = {}, front?: (store: PgliteStore) => Store) {
  const metrics = createWorkerMetrics(createRegistry({}, false));
  const store = await createPgliteStore();
  await store.migrate();
  const runner = await openRunner(front ? front(store) : store, metrics, live);
  return { metrics, store, runner, signal: AbortSignal.timeout(20_000) };
}

/** A runner of partition 0 of topic `t` on in-process adapters, checkpointing after every batch. */
async function openRunner(store: Store, metrics: WorkerMetrics, live: RunnerOptions): Promise<PartitionRunner> {
  const clock = live.clock ?? Date.now;
  const logger = silentLogger();
  const bus = live.bus ?? createMemoryBus();
  await bus.ensureStream(CANDLES_STREAM);
  await bus.ensureStream(ALERTS_STREAM);
  const log = createMemoryLog();
  await log.admin().ensureTopic('late', 1);
  await log.admin().ensureTopic('rejected', 1);
  const outputs = new PartitionOutputs({
    bus,
    cache: live.cache ?? createMemoryCache(),
    producer: live.producer ?? log.producer(),
    topics: { late: 'late', rejected: 'rejected' },
    logger,
    metrics,
    clock,
    liveCacheIntervalMs: live.liveCacheIntervalMs ?? 0,
  });
  const actors = marketActorFactory(
    actorConfig({
      intervals: ['1m'],
      allowedLatenessMs: 1_000,
      ...(live.partialMinIntervalMs === undefined
        ? { partialUpdates: false }
        : { partialUpdates: true, partialMinIntervalMs: live.partialMinIntervalMs }),
    }),
  );
  const wrap = live.wrap ?? ((a) => a);
  return PartitionRunner.open({
    topic: 't',
    partition: 0,
    epoch: 1,
    actors: {
      safeStepMs: actors.safeStepMs,
      create: (t) => wrap(actors.create(t)),
      restore: (b) => wrap(actors.restore(b)),
    },
    store,
    outputs,
    logger,
    metrics,
    clock,
    flow: { pause() {}, resume() {} },
    config: {
      checkpointIntervalMs: live.checkpointIntervalMs ?? 0,
      maxPendingRows: 1_000,
      mailboxCapacity: 8,
      pauseAt: 8,
      resumeAt: 0,
      outOfOrdernessMs: 0,
      idleGraceMs: 0,
      clockWatermark: live.clockWatermark ?? false,
      liveWindowMs: live.clockWatermark ? 300_000 : 1,
      ...(live.stateCheckpointIntervalMs === undefined
        ? {}
        : { stateCheckpointIntervalMs: live.stateCheckpointIntervalMs }),
    },
  });
}

describe('partition runner', () => {
  it('checkpoints a live partition whose markets only took trades at the state interval, and closed candles at once', async () => {
    let now = base.eventTime + 1_000;
    const { store, runner, signal } = await setup({
      clock: () => now,
      checkpointIntervalMs: 0,
      stateCheckpointIntervalMs: 10_000,
      clockWatermark: true,
    });
    const run = runner.run(signal);
    const committed = async () => (await store.loadCheckpoint('t', 0))?.nextOffset ?? 0n;
    const trade = (id: number, eventTime: number) => ({
      ...base,
      tradeId: String(id),
      eventTime,
      receiveTime: eventTime,
    });
    // A trade into the open minute: only the market's state changed, so no checkpoint yet.
    await runner.enqueue(
      { topic: 't', partition: 0, records: records([trade(1, base.eventTime + 500)]), highWatermark: 1n },
      signal,
    );
    await expect.poll(() => runner.offset, { timeout: 2_000, interval: 10 }).toBe(1n);
    runner.tick();
    await new Promise((r) => setTimeout(r, 100));
    expect(await committed()).toBe(0n);
    // The state interval passed: the next tick commits it.
    now += 10_000;
    runner.tick();
    await expect.poll(committed, { timeout: 2_000, interval: 10 }).toBe(1n);
    // A trade of the next minute closes the first one: the closed candle commits at once.
    now = base.eventTime + 61_000;
    await runner.enqueue(
      { topic: 't', partition: 0, records: records([trade(2, base.eventTime + 61_000)], 1), highWatermark: 2n },
      signal,
    );
    await expect.poll(committed, { timeout: 2_000, interval: 10 }).toBe(2n);
    runner.stop();
    await run;
    await store.close();
  }, 60_000);

  it('publishes on a clock tick the partial update its rate limit held back, in a partition that does not follow the clock', async () => {
    const cache = createMemoryCache();
    let now = Date.UTC(2024, 0, 2);
    const { metrics, store, runner, signal } = await setup({ cache, clock: () => now, partialMinIntervalMs: 1_000 });
    const run = runner.run(signal);
    // Old trades (2024): the partition does not follow the clock. The first trade's partial goes
    // out at once; the next two come within the rate limit and are held back.
    const trades = [1, 2, 3].map((id) => ({ ...base, tradeId: String(id), eventTime: base.eventTime + id }));
    // Appended 7 ms before they are processed.
    const appended = records(trades).map((r) => ({ ...r, timestamp: now - 7 }));
    await runner.enqueue({ topic: 't', partition: 0, records: appended, highWatermark: 3n }, signal);
    const latest = async () => (await cache.latestCandle('binance', 'BTCUSDT', '1m'))?.trades;
    await expect.poll(latest, { timeout: 2_000, interval: 10 }).toBe(1);
    runner.tick(); // still within the limit: nothing to publish
    await new Promise((r) => setTimeout(r, 100));
    expect(await latest()).toBe(1);
    now += 1_000;
    runner.tick();
    await expect.poll(latest, { timeout: 2_000, interval: 10 }).toBe(3);
    runner.stop();
    await run;
    // Append to publish: the batch's publish, from its first record's append time; the tick's
    // publish of what was held back is not timed (no record's latency ends there).
    await expectAppendToPublish(metrics, 1, 0.007);
    await store.close();
  }, 30_000);

  it('conflates partial updates while batches wait, and times the release from the oldest record it covers', async () => {
    const cache = new PartialsCache();
    const now = Date.UTC(2024, 0, 2);
    // No rate limit: without conflation every batch would publish its own partial.
    const { metrics, store, runner, signal } = await setup({ cache, clock: () => now, partialMinIntervalMs: 0 });
    // Four batches of one trade each wait in the mailbox before the runner starts; the first was
    // appended 40 ms ago, the last 10 ms ago.
    await enqueueSingleTrades(runner, 4, signal, (i) => now - 40 + 10 * i);
    const run = runner.run(signal);
    await expect.poll(() => cache.partials.length, { timeout: 2_000, interval: 10 }).toBeGreaterThan(0);
    runner.stop();
    await run;
    // One partial, after the last batch, with all four trades.
    expect(cache.partials).toEqual([4]);
    await expectAppendToPublish(metrics, 1, 0.04);
    await store.close();
  }, 30_000);

  it('holds partial updates back for at most a second while batches keep waiting', async () => {
    const cache = new PartialsCache();
    let now = 1_000_000;
    // Each trade takes 600 ms of the runner's clock.
    const wrap = beforeEachTrade(() => {
      now += 600;
    });
    const { store, runner, signal } = await setup({ cache, clock: () => now, partialMinIntervalMs: 0, wrap });
    await enqueueSingleTrades(runner, 4, signal);
    const run = runner.run(signal);
    await expect.poll(() => cache.partials.length, { timeout: 2_000, interval: 10 }).toBeGreaterThanOrEqual(2);
    runner.stop();
    await run;
    // Held at 0 and 600 ms; at 1,200 ms the hold has lasted a second: the third batch publishes
    // although one still waits; the last publishes as the queue is empty.
    expect(cache.partials).toEqual([3, 4]);
    await store.close();
  }, 30_000);

  it('publishes the partial updates a hold kept back when a stop discards the queued batches', async () => {
    const cache = new PartialsCache();
    // The stop comes while the first batch is processed (held: two wait behind it) and drops the rest.
    let stop = (): void => {};
    const wrap = beforeEachTrade(() => stop());
    const { store, runner, signal } = await setup({ cache, clock: () => 1_000_000, partialMinIntervalMs: 0, wrap });
    stop = () => runner.stop({ discardQueued: true });
    await enqueueSingleTrades(runner, 3, signal);
    await runner.run(signal);
    expect(runner.offset).toBe(1n);
    expect(cache.partials).toEqual([1]);
    await store.close();
  }, 30_000);

  it('processes the queued batches after a stop, and leaves them to the next owner after a discarding one', async () => {
    const finish = async (stop: (r: PartitionRunner) => void) => {
      const { store, runner, signal } = await setup();
      await enqueueSingleTrades(runner, 3, signal);
      stop(runner);
      expect(runner.isStopping).toBe(true);
      await runner.run(signal);
      await store.close();
      return { processed: runner.offset, committed: runner.committed };
    };
    expect(await finish((r) => r.stop())).toEqual({ processed: 3n, committed: 3n });
    // A plain stop after a discarding one does not bring the queued batches back.
    const discarded = await finish((r) => {
      r.stop({ discardQueued: true });
      r.stop();
    });
    expect(discarded).toEqual({ processed: 0n, committed: 0n });
  }, 30_000);

  it('writes live updates to the cache at most once per interval, the latest per key, and all of them at a checkpoint', async () => {
    const cache = new PartialsCache();
    const bus = createMemoryBus();
    const published: number[] = [];
    const sub = bus.subscribe('tickmesh.candle.partial.>');
    const receiving = (async () => {
      for await (const m of sub) published.push((JSON.parse(new TextDecoder().decode(m.data)) as Candle).trades);
    })();
    let now = 1_000_000;
    const { store, runner, signal } = await setup({
      cache,
      bus,
      clock: () => now,
      partialMinIntervalMs: 0,
      liveCacheIntervalMs: 1_000,
      checkpointIntervalMs: 60_000,
    });
    const run = runner.run(signal);
    const processed = (offset: bigint) =>
      expect.poll(() => runner.offset, { timeout: 1_000, interval: 5 }).toBe(offset);
    const trade = (id: number) => ({ ...base, tradeId: String(id), eventTime: base.eventTime + id });
    for (let id = 1; id <= 3; id++) {
      const batch = records([trade(id)], id - 1);
      await runner.enqueue({ topic: 't', partition: 0, records: batch, highWatermark: BigInt(id) }, signal);
      await processed(BigInt(id));
    }
    // NATS got all three; the cache the first at once, then nothing within the interval.
    await expect.poll(() => published, { timeout: 1_000, interval: 5 }).toEqual([1, 2, 3]);
    expect(cache.partials).toEqual([1]);
    // A tick past the interval writes the latest only.
    now += 1_000;
    runner.tick();
    await expect.poll(() => cache.partials, { timeout: 1_000, interval: 5 }).toEqual([1, 3]);
    // Within the next interval, the stop's final checkpoint writes what is left.
    const batch = records([trade(4)], 3);
    await runner.enqueue({ topic: 't', partition: 0, records: batch, highWatermark: 4n }, signal);
    await processed(4n);
    expect(cache.partials).toEqual([1, 3]);
    runner.stop();
    await run;
    expect(cache.partials).toEqual([1, 3, 4]);
    expect((await cache.latestCandle('binance', 'BTCUSDT', '1m'))?.trades).toBe(4);
    expect((await cache.latestPrice('binance', 'BTCUSDT'))?.tradeId).toBe('4');
    sub.unsubscribe();
    await receiving;
    await store.close();
  }, 30_000);

  it("publishes each batch its markets' latest prices, one per market, apart from the partial rate limit", async () => {
    const bus = createMemoryBus();
    const prices: string[] = [];
    const partials: number[] = [];
    const priceSub = bus.subscribe('tickmesh.price.>');
    const partialSub = bus.subscribe('tickmesh.candle.partial.>');
    const decode = (d: Uint8Array) => JSON.parse(new TextDecoder().decode(d)) as Record<string, unknown>;
    const receiving = Promise.all([
      (async () => {
        for await (const m of priceSub) prices.push(`${m.subject.split('.').at(-1)}#${decode(m.data).tradeId}`);
      })(),
      (async () => {
        for await (const m of partialSub) partials.push(decode(m.data).trades as number);
      })(),
    ]);
    const now = Date.UTC(2024, 0, 2);
    // A partial rate limit of a minute: only the first trade's partial goes out.
    const { store, runner, signal } = await setup({ bus, clock: () => now, partialMinIntervalMs: 60_000 });
    const run = runner.run(signal);
    const eth = { ...base, symbol: 'ETHUSDT', market: 'ETH-USDT' };
    const t = (m: Trade, id: number): Trade => ({ ...m, tradeId: String(id), eventTime: base.eventTime + id });
    await runner.enqueue({ topic: 't', partition: 0, records: records([t(base, 1)]), highWatermark: 5n }, signal);
    await expect.poll(() => prices, { timeout: 2_000, interval: 5 }).toEqual(['BTCUSDT#1']);
    // Two markets, the latest of each once: the batch's own trades, not a later tick's.
    const batch = records([t(base, 2), t(eth, 3), t(base, 4), t(eth, 5)], 1);
    await runner.enqueue({ topic: 't', partition: 0, records: batch, highWatermark: 5n }, signal);
    await expect.poll(() => prices, { timeout: 2_000, interval: 5 }).toEqual(['BTCUSDT#1', 'BTCUSDT#4', 'ETHUSDT#5']);
    runner.stop();
    await run;
    expect(partials).toEqual([1, 1]);
    expect(prices).toHaveLength(3);
    priceSub.unsubscribe();
    partialSub.unsubscribe();
    await receiving;
    await store.close();
  }, 30_000);

  it('publishes the prices of a large batch every 64 records, not only at its end', async () => {
    const bus = createMemoryBus();
    const prices: string[] = [];
    const sub = bus.subscribe('tickmesh.price.>');
    const receiving = (async () => {
      for await (const m of sub)
        prices.push((JSON.parse(new TextDecoder().decode(m.data)) as { tradeId: string }).tradeId);
    })();
    const now = Date.UTC(2024, 0, 2);
    const { store, runner, signal } = await setup({ bus, clock: () => now, partialMinIntervalMs: 60_000 });
    const run = runner.run(signal);
    const trades = Array.from({ length: 130 }, (_, i) => ({
      ...base,
      tradeId: String(i + 1),
      eventTime: base.eventTime + i,
    }));
    await runner.enqueue({ topic: 't', partition: 0, records: records(trades), highWatermark: 130n }, signal);
    await expect.poll(() => prices, { timeout: 2_000, interval: 5 }).toEqual(['64', '128', '130']);
    runner.stop();
    await run;
    sub.unsubscribe();
    await receiving;
    await store.close();
  }, 30_000);

  it('counts every record by outcome in tickmesh_worker_trades_total', async () => {
    const { metrics, store, runner, signal } = await setup();
    const run = runner.run(signal);
    const t = (id: number, minute: number, extra: Partial<Trade> = {}): Trade => ({
      ...base,
      tradeId: String(id),
      eventTime: base.eventTime + minute * 60_000,
      ...extra,
    });
    const first = [t(1, 0), t(2, 0), t(2, 0), new Uint8Array([9, 9, 9]), t(3, 0, { price: '0' })];
    // Minute 2 closes minute 0 and passes its 1 s lateness: a trade of minute 0 is then late.
    const second = [t(4, 2), t(5, 0), t(6, 2)];
    await runner.enqueue({ topic: 't', partition: 0, records: records(first), highWatermark: 8n }, signal);
    await runner.enqueue({ topic: 't', partition: 0, records: records(second, 5), highWatermark: 8n }, signal);
    runner.stop();
    await run;
    const counts = Object.fromEntries((await metrics.trades.get()).values.map((v) => [v.labels.outcome, v.value]));
    expect(counts).toEqual({ accepted: 4, duplicate: 1, undecodable: 1, rejected: 1, late: 1 });
    expect((await store.loadCheckpoint('t', 0))?.nextOffset).toBe(8n);
    await store.close();
  }, 30_000);

  it('commits the trend predictions with the checkpoint, one per closed candle once the model is warm', async () => {
    const { store, runner, signal } = await setup();
    const run = runner.run(signal);
    // One trade a minute with a zigzag price: each trade closes the previous minute.
    const trades = Array.from({ length: 30 }, (_, i) => ({
      ...base,
      tradeId: String(i + 1),
      price: String(100 + (i % 3) - (i % 2)),
      eventTime: base.eventTime + i * 60_000,
      receiveTime: base.eventTime + i * 60_000,
    }));
    await runner.enqueue({ topic: 't', partition: 0, records: records(trades), highWatermark: 30n }, signal);
    runner.stop();
    await run;
    const stored = await store.predictions({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', from: 0 });
    const candles = await store.candles({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', from: 0 });
    expect(candles).toHaveLength(29);
    // The default warm-up is 10 candles: predictions from there on, each made by a stored candle.
    expect(stored.length).toBeGreaterThan(10);
    const opens = new Set(candles.map((c) => c.openTime));
    for (const p of stored) {
      expect(opens.has(p.openTime)).toBe(true);
      expect(p.targetOpenTime).toBe(p.openTime + 60_000);
      expect(p.scores.baselines).toHaveProperty('persistence');
    }
    expect(stored.at(-1)?.openTime).toBe(candles.at(-1)?.openTime);
    await store.close();
  }, 30_000);

  it('processes a trade-batch record as its trades, in order, and checkpoints after the whole record', async () => {
    const t = (id: number, second: number): Trade => ({
      ...base,
      tradeId: String(id),
      price: `${100 + (id % 7)}.5`,
      eventTime: base.eventTime + second * 1_000,
      receiveTime: base.eventTime + second * 1_000,
    });
    // Three minutes of trades (a duplicate among them), so that two 1m candles close.
    const trades = Array.from({ length: 40 }, (_, i) => t(i + 1, i * 4));
    trades.splice(10, 0, t(10, 36));
    const run = async (recordsOf: (ts: Trade[]) => LogRecord[]) => {
      const { metrics, store, runner, signal } = await setup();
      const done = runner.run(signal);
      const recs = recordsOf(trades);
      const end = (recs.at(-1) as LogRecord).offset + 1n;
      await runner.enqueue({ topic: 't', partition: 0, records: recs, highWatermark: end }, signal);
      runner.stop();
      await done;
      const counts = Object.fromEntries((await metrics.trades.get()).values.map((v) => [v.labels.outcome, v.value]));
      const candles = await store.candles({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m' });
      const checkpoint = (await store.loadCheckpoint('t', 0))?.nextOffset;
      await store.close();
      return { counts, candles, checkpoint };
    };
    const single = await run((ts) => records(ts));
    // The same trades as two batch records (27 and 14 trades) at offsets 0 and 1, and a batch
    // record cut short at offset 2: undecodable as a whole, counted once.
    const batched = await run((ts) => {
      const value = (part: Trade[]) => encodeTradeBatch(part);
      const cut = value(ts.slice(0, 3)).subarray(0, 30);
      return [value(ts.slice(0, 27)), value(ts.slice(27)), cut].map((v, i) => ({
        partition: 0,
        offset: BigInt(i),
        key: 'binance:BTCUSDT',
        value: v,
        headers: TRADE_BATCH_HEADERS,
        timestamp: 0,
      }));
    });
    expect(single.candles.length).toBe(2);
    expect(batched.candles).toEqual(single.candles);
    expect(single.counts).toEqual({ accepted: 40, duplicate: 1 });
    expect(batched.counts).toEqual({ accepted: 40, duplicate: 1, undecodable: 1 });
    expect(single.checkpoint).toBe(41n);
    expect(batched.checkpoint).toBe(3n);
  }, 30_000);

  it('goes on processing while a checkpoint commits, one in flight, until it is an interval overdue', async () => {
    // A store whose commits wait for the test: the first one is held until released.
    const started: bigint[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holding = (inner: PgliteStore): Store =>
      Object.assign(Object.create(inner) as Store, {
        async commit(batch: CommitBatch) {
          started.push(batch.nextOffset);
          if (started.length === 1) await held;
          return inner.commit(batch);
        },
      });
    let now = Date.UTC(2024, 0, 1);
    const { metrics, store, runner, signal } = await setup({ checkpointIntervalMs: 1_000, clock: () => now }, holding);
    const run = runner.run(signal);
    const t = (id: number): Trade => ({ ...base, tradeId: String(id), eventTime: base.eventTime + id });
    const accepted = async () =>
      (await metrics.trades.get()).values.find((v) => v.labels.outcome === 'accepted')?.value ?? 0;
    const batch = (from: number) =>
      runner.enqueue(
        { topic: 't', partition: 0, records: records([t(from + 1), t(from + 2)], from), highWatermark: 10n },
        signal,
      );

    now += 1_000;
    await batch(0);
    await expect
      .poll(() => started.length, { timeout: 10_000, interval: 5, message: 'the first checkpoint to start' })
      .toBe(1);
    // The first commit is held; the next checkpoint is due at every batch, and the batches are
    // processed all the same: they wait for no commit.
    await batch(2);
    await batch(4);
    await expect.poll(accepted, { timeout: 10_000, interval: 5, message: 'the batches to be processed' }).toBe(6);
    expect(runner.offset).toBe(6n);
    expect(started).toEqual([2n]);
    expect(await store.loadCheckpoint('t', 0)).toBeNull();

    // An interval later the commit in flight is overdue: the loop waits for it after this batch.
    // (Once the loop is idle again: the clock moved before it looked at the last batch would hold it there.)
    await new Promise((r) => setTimeout(r, 50));
    now += 1_000;
    await batch(6);
    await expect.poll(accepted, { timeout: 10_000, interval: 5, message: 'the fourth batch to be processed' }).toBe(8);
    await batch(8);
    await new Promise((r) => setTimeout(r, 50));
    expect(await accepted()).toBe(8);
    expect(started).toEqual([2n]);

    release();
    await expect.poll(accepted, { timeout: 10_000, interval: 5, message: 'the last batch to be processed' }).toBe(10);
    runner.stop();
    await run;
    expect(started).toEqual([2n, 8n, 10n]);
    expect((await store.loadCheckpoint('t', 0))?.nextOffset).toBe(10n);
    await store.close();
  }, 30_000);

  describe('the error rule', () => {
    /** A producer into an in-process log with the late and rejected topics that keeps what it sent. */
    async function capturing(): Promise<{ producer: LogProducer; sent: Array<{ topic: string; r: OutgoingRecord }> }> {
      const log = createMemoryLog();
      await log.admin().ensureTopic('late', 1);
      await log.admin().ensureTopic('rejected', 1);
      const inner = log.producer();
      const sent: Array<{ topic: string; r: OutgoingRecord }> = [];
      const producer: LogProducer = Object.assign(Object.create(inner) as LogProducer, {
        async send(topic: string, recs: readonly OutgoingRecord[]) {
          for (const r of recs) sent.push({ topic, r });
          return inner.send(topic, recs);
        },
      });
      return { producer, sent };
    }
    // Received as they happen: a trade dated past its receive time is another rule (future-time).
    const minute = (id: number, m: number, extra: Partial<Trade> = {}): Trade => ({
      ...base,
      tradeId: String(id),
      price: `${100 + id}`,
      eventTime: base.eventTime + m * 60_000 + id,
      receiveTime: base.eventTime + m * 60_000 + id,
      ...extra,
    });
    const candlesOf = (store: Store) => store.candles({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m' });
    /** Runs `trades` (one record each) through a fresh runner on a fresh store; returns its table and rejects. */
    async function runAll(trades: readonly Trade[], wrap?: (a: MarketActorPort) => MarketActorPort) {
      const { producer, sent } = await capturing();
      const { metrics, store, runner, signal } = await setup({ producer, ...(wrap ? { wrap } : {}) });
      const run = runner.run(signal);
      const n = BigInt(trades.length);
      // One record per batch, so that each gets its own checkpoint.
      for (const [i, rec] of records(trades).entries()) {
        await runner.enqueue({ topic: 't', partition: 0, records: [rec], highWatermark: n }, signal);
        if (i % 2 === 1) await new Promise((r) => setTimeout(r, 5));
      }
      runner.stop();
      await run;
      const result = {
        candles: await candlesOf(store),
        rejected: sent.filter((x) => x.topic === 'rejected').map((x) => x.r.headers?.['tm-reject-reason']),
        offset: (await store.loadCheckpoint('t', 0))?.nextOffset,
        metrics,
      };
      await store.close();
      return result;
    }

    it('a trade whose text PostgreSQL cannot store goes to the rejected topic and the partition goes on', async () => {
      const trades = [
        minute(1, 0),
        minute(2, 0, { tradeId: 'a\u0000b' }),
        minute(3, 1),
        minute(4, 1, { market: 'BTC-\u0000USDT' }),
        minute(5, 3),
      ];
      const run = await runAll(trades);
      // The record decoder refuses a non-printable id or market name before any guard sees it.
      expect(run.rejected).toEqual(['bad-trade-id', 'bad-symbol']);
      expect(run.offset).toBe(5n);
      // Minutes 0, 1 and the empty minute 2 closed, from the good trades alone.
      expect(run.candles.map((c) => [c.trades, c.lastTradeId])).toEqual([
        [1, '1'],
        [1, '3'],
        [0, ''],
      ]);
      // The same log without the bad trades makes the same table.
      const clean = await runAll(trades.filter((_, i) => i !== 1 && i !== 3));
      expect(run.candles).toEqual(clean.candles);
    }, 60_000);

    it('a row the store refuses anyway is set aside to the rejected topic; the rest commits, the same on every run', async () => {
      // Past the guard (a bug elsewhere): an actor whose closed candles of minute 1 carry a NUL.
      const poisonOut = (out: ActorOutput) => {
        out.closed.forEach((c, i) => {
          if (c.openTime === base.eventTime + 60_000) out.closed[i] = { ...c, lastTradeId: 'x\u0000' };
        });
      };
      const poison = (actor: MarketActorPort): MarketActorPort =>
        Object.assign(Object.create(actor) as MarketActorPort, {
          onTrade: (...args: Parameters<MarketActorPort['onTrade']>) => {
            const outcome = actor.onTrade(...args);
            poisonOut(args[2]);
            return outcome;
          },
          advance: (...args: Parameters<MarketActorPort['advance']>) => {
            actor.advance(...args);
            poisonOut(args[2]);
          },
        });
      const trades = [minute(1, 0), minute(2, 1), minute(3, 2), minute(4, 3)];
      const run = await runAll(trades, poison);
      expect(run.rejected).toEqual(['store-refused']);
      expect(run.offset).toBe(4n);
      expect(run.candles.map((c) => c.lastTradeId)).toEqual(['1', '3']);
      expect((await run.metrics.refusedRows.get()).values.find((v) => v.labels.kind === 'candle')?.value).toBe(1);
    }, 60_000);

    it('a durable output that fails for good fails the partition instead of retrying forever', async () => {
      // No late topic: sending a late trade fails with a ConfigError (unknown topic), not retriable.
      const log = createMemoryLog();
      await log.admin().ensureTopic('rejected', 1);
      const { store, runner, signal } = await setup({ producer: log.producer() });
      const run = runner.run(signal);
      const trades = [minute(1, 0), minute(2, 2), minute(3, 0)];
      await runner.enqueue({ topic: 't', partition: 0, records: records(trades), highWatermark: 3n }, signal);
      await expect(run).rejects.toThrow(/unknown topic late/);
      expect(await store.loadCheckpoint('t', 0)).toBeNull();
      await store.close();
    }, 30_000);

    it('a commit PostgreSQL refuses for now (53100) is retried while the partition says so, then lands', async () => {
      let failures = 3;
      const diskFull = Object.assign(new Error('could not extend file: No space left on device'), { code: '53100' });
      const problems: Array<string | undefined> = [];
      let problem = (): string | undefined => undefined;
      const failing = (inner: PgliteStore): Store =>
        Object.assign(Object.create(inner) as Store, {
          async commit(batch: CommitBatch) {
            problems.push(problem());
            if (failures-- > 0) throw new UnavailableError('postgres 53100', { cause: diskFull });
            return inner.commit(batch);
          },
        });
      const { metrics, store, runner, signal } = await setup({}, failing);
      problem = () => runner.problem;
      const run = runner.run(signal);
      await runner.enqueue({ topic: 't', partition: 0, records: records([minute(1, 0)]), highWatermark: 1n }, signal);
      runner.stop();
      await run;
      // Not ready while retrying; ready again once it landed.
      expect(problems[0]).toBeUndefined();
      expect(problems.slice(1)).toEqual(Array(3).fill('UnavailableError: postgres 53100'));
      expect(runner.problem).toBeUndefined();
      expect((await store.loadCheckpoint('t', 0))?.nextOffset).toBe(1n);
      const errors = (await metrics.commitErrors.get()).values;
      expect(errors.map((v) => [v.labels.code, v.value])).toEqual([['53100', 3]]);
      await store.close();
    }, 30_000);

    it('a commit error that is neither data nor retriable ends the run at once', async () => {
      let attempts = 0;
      const broken = (inner: PgliteStore): Store =>
        Object.assign(Object.create(inner) as Store, {
          async commit() {
            attempts++;
            throw Object.assign(new Error('relation "candles" does not exist'), { code: '42P01' });
          },
        });
      const { store, runner, signal } = await setup({}, broken);
      const run = runner.run(signal);
      await runner.enqueue({ topic: 't', partition: 0, records: records([minute(1, 0)]), highWatermark: 1n }, signal);
      await expect(run).rejects.toThrow(/does not exist/);
      expect(attempts).toBe(1);
      await store.close();
    }, 30_000);
  });

  describe('event time against the receive and append clocks', () => {
    const eth = (id: number, second: number): Trade => ({
      ...base,
      symbol: 'ETHUSDT',
      market: 'ETH-USDT',
      tradeId: String(id),
      eventTime: base.eventTime + second * 1_000,
      receiveTime: base.eventTime + second * 1_000,
    });
    /** Runs `recs` through a fresh runner; outcome counts and the candles of both markets. */
    const run = async (recs: LogRecord[]) => {
      const { metrics, store, runner, signal } = await setup();
      const done = runner.run(signal);
      const end = (recs.at(-1) as LogRecord).offset + 1n;
      await runner.enqueue({ topic: 't', partition: 0, records: recs, highWatermark: end }, signal);
      runner.stop();
      await done;
      const counts = Object.fromEntries((await metrics.trades.get()).values.map((v) => [v.labels.outcome, v.value]));
      const candles = async (symbol: string) => store.candles({ exchange: 'binance', symbol, interval: '1m' });
      const result = { counts, btc: await candles('BTCUSDT'), eth: await candles('ETHUSDT') };
      await store.close();
      return result;
    };

    it('rejects a record dated past its receive time plus the skew; the partition and its other markets go on', async () => {
      // One BTCUSDT trade dated 2099, received in 2024: it had swept every market of the
      // partition to 2099 (hundreds of thousands of empty candles, every later trade late).
      const future: Trade = { ...base, tradeId: '2', eventTime: Date.UTC(2099, 0, 1) };
      const trades = [{ ...base }, eth(1, 1), future, eth(2, 30), eth(3, 70), eth(4, 130)];
      const { counts, btc, eth: ethCandles } = await run(records(trades));
      expect(counts).toEqual({ accepted: 5, rejected: 1 });
      expect(ethCandles.map((c) => c.openTime)).toEqual([base.eventTime, base.eventTime + 60_000]);
      expect(btc.every((c) => c.openTime < Date.UTC(2025, 0, 1))).toBe(true);
    }, 30_000);

    it('rejects a trade dated past the append time plus the skew, whatever its receive time says', async () => {
      const appendedAt = base.eventTime + 1_000;
      const forged: Trade = {
        ...base,
        tradeId: '2',
        eventTime: Date.UTC(2099, 0, 1),
        receiveTime: Date.UTC(2099, 0, 1),
      };
      const recs = records([{ ...base }, forged, eth(1, 1)]).map((r) => ({ ...r, timestamp: appendedAt }));
      expect((await run(recs)).counts).toEqual({ accepted: 2, rejected: 1 });
    }, 30_000);

    it('one trade dated ahead within the skew moves its own market, never the partition past the append clock', async () => {
      // The BTCUSDT trade is dated 100 s after it was received and appended (allowed: the skew is
      // 120 s). The ETHUSDT trades appended after it are on time and must not be made late.
      const t0 = base.eventTime;
      const ahead: Trade = { ...base, tradeId: '2', eventTime: t0 + 100_000, receiveTime: t0 };
      const recs = records([{ ...base }, ahead, eth(1, 1), eth(2, 10), eth(3, 61)]).map((r, i) => ({
        ...r,
        timestamp: t0 + [0, 0, 1_000, 10_000, 61_000][i]!,
      }));
      const { counts, eth: ethCandles } = await run(recs);
      expect(counts).toEqual({ accepted: 5 });
      expect(ethCandles.map((c) => [c.openTime, c.trades])).toEqual([[t0, 2]]);
    }, 30_000);
  });
});
