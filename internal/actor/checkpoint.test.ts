import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prng } from '../ingest/simulator.js';
import type { Trade } from '../market/trade.js';
import { CHECKPOINT_VERSION } from './checkpoint.js';
import { type ActorConfig, type ActorConfigInput, actorConfig } from './config.js';
import { MarketActor } from './market-actor.js';
import { type ActorOutput, createActorOutput } from './output.js';

/**
 * Golden checkpoints: bytes written by the actor's codec as it was when the file was made, for
 * two long deterministic runs. A checkpoint a worker wrote before a change must still restore
 * after it, to the actor that never stopped. `TICKMESH_WRITE_GOLDEN=1` rewrites the files, which
 * only a deliberate format change (with a new CHECKPOINT_VERSION) may do.
 */

const ID = { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT' };
/** 2024-01-01T00:00:00Z, a Monday. */
const T0 = Date.UTC(2024, 0, 1);

interface Scenario {
  readonly name: string;
  readonly config: ActorConfigInput;
  readonly stringIds: boolean;
  readonly seed: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'numeric-ids',
    // 1w is not nested in 1m (weeks open on Mondays): both paths of the window code are in the state.
    config: {
      intervals: ['1m', '5m', '1h', '1w'],
      partialUpdates: true,
      partialMinIntervalMs: 250,
      allowedLatenessMs: 120_000,
      detectors: {
        interval: '1m',
        priceSpike: { minSamples: 5 },
        volumeSpike: { window: 12, minSamples: 4, ratio: 3 },
        staleMarket: { afterMs: 90_000, minTradesPerCandle: 0.5 },
        whaleTrade: { notional: '2000' },
      },
      indicators: { smaPeriods: [3, 10], emaPeriods: [4], vwapPeriod: 6, volatilityPeriod: 5 },
    },
    stringIds: false,
    seed: 22,
  },
  {
    name: 'string-ids',
    config: { intervals: ['1m', '3m'], partialUpdates: false, allowedLatenessMs: 60_000 },
    stringIds: true,
    seed: 7,
  },
];

const SILENCE_AT = 1_850;

/** 3,000 trades over ~2.5 h with a 15 min silence: duplicates, late trades, decimals that grow, an id reset. */
function trades(s: Scenario): Trade[] {
  const rand = prng(s.seed);
  const list: Trade[] = [];
  let time = T0 + 1_000;
  let id = 5_000_000;
  let price = 20_000;
  for (let i = 0; i < 3_000; i++) {
    time += Math.floor(rand() * 6_000);
    if (i === SILENCE_AT) time += 15 * 60_000;
    // The venue restarts its numbering: ids the actor still holds come again, dated later.
    if (i === 1_200) id -= 20;
    price = Math.max(1, price + Math.round((rand() - 0.5) * 40) + (i === 800 ? 3_000 : 0));
    const pd = i < 500 ? 1 : 2 + Math.floor(rand() * 2);
    const size = i % 400 === 399 ? 30_000 : 1 + Math.floor(rand() * 900);
    const jitter = rand() < 0.05 ? Math.floor(rand() * 150_000) : 0;
    const tradeId = s.stringIds ? `t-${id.toString(36)}` : String(id);
    id++;
    const t: Trade = {
      ...ID,
      tradeId,
      price: (price / 10).toFixed(pd),
      size: (size / 1_000).toFixed(3),
      side: rand() < 0.5 ? 'buy' : 'sell',
      eventTime: time - jitter,
      receiveTime: time,
    };
    list.push(t);
    if (rand() < 0.01) list.push({ ...t });
  }
  return list;
}

function drive(actor: MarketActor, config: ActorConfig, list: readonly Trade[], out: ActorOutput): void {
  list.forEach((t, i) => {
    actor.onTrade(t, t.receiveTime, out);
    if (i % 11 === 10) actor.advance(t.receiveTime - config.outOfOrdernessMs, t.receiveTime + 5, out);
  });
}

const goldenPath = (s: Scenario, version = CHECKPOINT_VERSION) =>
  new URL(`./testdata/checkpoint-v${version}-${s.name}.hex`, import.meta.url);
const readGolden = (s: Scenario, version?: number) =>
  new Uint8Array(Buffer.from(readFileSync(goldenPath(s, version), 'utf8').trim(), 'hex'));

/** The scenario's actor run up to its silence, checkpointed there; and the trades after. */
function untilSilence(s: Scenario) {
  const config = actorConfig(s.config);
  const list = trades(s);
  // The checkpoint is taken in the silence, after the stale-market detector spoke.
  const cut = list.findIndex((t, i) => i > 0 && t.receiveTime - (list[i - 1] as Trade).receiveTime > 10 * 60_000);
  const before = list.slice(0, cut);
  const straight = new MarketActor(ID, config);
  const early = createActorOutput();
  drive(straight, config, before, early);
  const quietFrom = (before[before.length - 1] as Trade).receiveTime;
  for (let t = quietFrom + 30_000; t < quietFrom + 10 * 60_000; t += 30_000) {
    straight.advance(t - config.outOfOrdernessMs, t, early);
  }
  return { config, straight, early, after: list.slice(cut) };
}

/** Both actors fed the same trades after the checkpoint, to the end. */
function continueBoth(config: ActorConfig, straight: MarketActor, restored: MarketActor, after: readonly Trade[]) {
  const a = createActorOutput();
  const b = createActorOutput();
  drive(straight, config, after, a);
  drive(restored, config, after, b);
  straight.flush(Number.MAX_SAFE_INTEGER, a);
  restored.flush(Number.MAX_SAFE_INTEGER, b);
  return { a, b };
}

describe('MarketActor checkpoint (golden)', () => {
  for (const s of SCENARIOS) {
    it(`restores the ${s.name} checkpoint of the released format to the actor that never stopped`, () => {
      const { config, straight, early, after } = untilSilence(s);
      const written = straight.snapshot();
      // The state holds what the checkpoint is meant to carry: a silence spoken of, resets, duplicates.
      expect(early.alerts.map((x) => x.kind)).toContain('stale_market');
      expect(straight.counters.idResets).toBeGreaterThan(0);
      expect(straight.counters.duplicates).toBeGreaterThan(0);
      expect(straight.counters.revisedCandles).toBeGreaterThan(0);
      if (process.env.TICKMESH_WRITE_GOLDEN === '1')
        writeFileSync(goldenPath(s), `${Buffer.from(written).toString('hex')}\n`);
      const golden = readGolden(s);

      // The writer still writes the same bytes, and the reader reads them back to the same state.
      expect(Buffer.from(written).toString('hex')).toBe(Buffer.from(golden).toString('hex'));
      const restored = MarketActor.restore(golden, config);
      expect(restored.snapshot()).toEqual(golden);

      const { a, b } = continueBoth(config, straight, restored, after);
      expect(b).toEqual(a);
      expect(restored.counters).toEqual(straight.counters);
      expect(restored.snapshot()).toEqual(straight.snapshot());
      expect(a.closed.length).toBeGreaterThan(50);
    });

    it(`restores the ${s.name} checkpoint of version 3 (before the indicator replay base): same candles, alerts, forecasts`, () => {
      const { config, straight, after } = untilSilence(s);
      const restored = MarketActor.restore(readGolden(s, 3), config);
      const { a, b } = continueBoth(config, straight, restored, after);
      for (const k of ['closed', 'revised', 'alerts', 'predictions', 'late'] as const) expect(b[k], k).toEqual(a[k]);
      // Its indicator state is the one version 3 kept, whose revisions did not recompute: the
      // same candles get indicators, and once the look-backs have rolled past the checkpoint,
      // the windowed ones agree (EMA remembers the difference, fading).
      const keys = (o: ActorOutput) => o.indicators.map((v) => `${v.interval}:${v.openTime}`);
      expect(keys(b)).toEqual(keys(a));
      const late1m = (o: ActorOutput) =>
        o.indicators
          .filter((v) => v.interval === '1m')
          .slice(40)
          .map((v) => [v.sma, v.vwap, v.volatility]);
      expect(late1m(b)).toEqual(late1m(a));
      expect(late1m(a).length).toBeGreaterThan(10);
    });

    it(`restores the ${s.name} checkpoint of version 2 (before the trend models): same candles and alerts, fresh models`, () => {
      const { config, straight, after } = untilSilence(s);
      const restored = MarketActor.restore(readGolden(s, 2), config);
      const { a, b } = continueBoth(config, straight, restored, after);
      expect(b.closed).toEqual(a.closed);
      expect(b.alerts).toEqual(a.alerts);
      expect(restored.counters).toEqual(straight.counters);
      // The restored models start over: they forecast only once warmed up again.
      expect(b.predictions.length).toBeLessThan(a.predictions.length);
    });
  }
});
