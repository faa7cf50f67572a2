import { describe, expect, it } from 'vitest';
import { loadRealTrades } from '../../test/support/real-trades.js';
import { actorConfig } from '../actor/config.js';
import { MarketActor } from '../actor/market-actor.js';
import { createActorOutput, type TrendPrediction } from '../actor/output.js';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import { ALERTS_STREAM, CANDLES_STREAM } from '../bus/subject-names.js';
import { createMemoryLog } from '../log/memory-log.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createWorkerMetrics } from './metrics.js';
import { PartitionOutputs } from './outputs.js';

/** Outputs on `bus`, and what an actor made of the first 2,000 real BTCUSDT trades at 1s and 1m. */
async function realRun(bus: MemoryBus, cache = createMemoryCache()) {
  const outputs = new PartitionOutputs({
    bus,
    cache,
    producer: createMemoryLog().producer(),
    topics: { late: 'late', rejected: 'rejected' },
    logger: silentLogger(),
    metrics: createWorkerMetrics(createRegistry({}, false)),
    clock: Date.now,
    liveCacheIntervalMs: 0,
  });
  const actor = new MarketActor(
    { exchange: 'binance-futures', symbol: 'BTCUSDT', market: 'BTC-USDT' },
    actorConfig({ intervals: ['1s', '1m'], partialUpdates: false }),
  );
  const out = createActorOutput();
  for (const t of (await loadRealTrades()).slice(0, 2_000)) actor.onTrade(t, 0, out);
  return { outputs, out };
}

describe('partition outputs: trend predictions and indicators', () => {
  it('publishes every forecast of the real trades live on tickmesh.prediction.<interval>.<exchange>.<symbol>', async () => {
    const bus = createMemoryBus();
    const sub = bus.subscribe('tickmesh.prediction.>', { signal: AbortSignal.timeout(5_000) });
    const { outputs, out } = await realRun(bus);
    const sent: TrendPrediction[] = [...out.predictions];
    expect(sent.length).toBeGreaterThan(50);
    outputs.emit(out, [], undefined);
    const got: { subject: string; value: TrendPrediction }[] = [];
    for await (const m of sub) {
      got.push({ subject: m.subject, value: JSON.parse(new TextDecoder().decode(m.data)) });
      if (got.length === sent.length) break;
    }
    expect(got.map((g) => g.subject)).toEqual(
      sent.map((p) => `tickmesh.prediction.${p.interval}.binance-futures.BTCUSDT`),
    );
    expect(got.map((g) => g.value)).toEqual(JSON.parse(JSON.stringify(sent)));
    expect(got.at(-1)?.value.scores.baselines.persistence.accuracy).not.toBeNull();
  });

  it('publishes the indicators of every closed candle live on tickmesh.indicator.<interval>.<exchange>.<symbol>', async () => {
    const bus = createMemoryBus();
    const sub = bus.subscribe('tickmesh.indicator.>', { signal: AbortSignal.timeout(5_000) });
    await bus.ensureStream(CANDLES_STREAM);
    await bus.ensureStream(ALERTS_STREAM);
    const cache = createMemoryCache();
    const { outputs, out } = await realRun(bus, cache);
    const sent = [...out.indicators];
    expect(sent.length).toBe(out.closed.length);
    outputs.emit(out, [], undefined);
    const got: { subject: string; value: unknown }[] = [];
    for await (const m of sub) {
      got.push({ subject: m.subject, value: JSON.parse(new TextDecoder().decode(m.data)) });
      if (got.length === sent.length) break;
    }
    expect(got.map((g) => g.subject)).toEqual(
      sent.map((v) => `tickmesh.indicator.${v.interval}.binance-futures.BTCUSDT`),
    );
    expect(got.map((g) => g.value)).toEqual(JSON.parse(JSON.stringify(sent)));
    // The latest of each interval in the cache, beside its candle.
    await outputs.settle(AbortSignal.timeout(5_000));
    for (const interval of ['1s', '1m'] as const) {
      const last = sent.filter((v) => v.interval === interval).at(-1);
      expect(await cache.latestIndicators('binance-futures', 'BTCUSDT', interval)).toEqual(last);
    }
  });
});
