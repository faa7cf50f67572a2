import { describe, expect, it } from 'vitest';
import { prng } from '../ingest/simulator.js';
import type { Trade } from '../market/trade.js';
import { actorConfig } from './config.js';
import { MarketActor } from './market-actor.js';
import { type ActorOutput, createActorOutput, type IndicatorValues } from './output.js';

const ID = { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT' };
const config = actorConfig({
  intervals: ['1m', '5m', '1h'],
  outOfOrdernessMs: 2_000,
  allowedLatenessMs: 60_000,
  partialUpdates: false,
  indicators: { smaPeriods: [3, 10], emaPeriods: [4, 9], vwapPeriod: 6, volatilityPeriod: 5 },
});

/**
 * Three hours of trades a few seconds apart; after the first ten minutes, one in eight arrives
 * up to 50 s late (within the minute's lateness), revising the closed windows it belongs to.
 */
function trades(seed: number): { inOrder: Trade[]; late: Trade[] } {
  const rand = prng(seed);
  const list: Trade[] = [];
  let time = Date.UTC(2024, 4, 1, 9);
  let price = 600_000;
  for (let i = 0; time < Date.UTC(2024, 4, 1, 12); i++) {
    time += 500 + Math.floor(rand() * 9_000);
    price = Math.max(1_000, price + Math.round((rand() - 0.5) * 400));
    const lateBy = i > 80 && rand() < 0.125 ? Math.floor(rand() * 50_000) : 0;
    list.push({
      ...ID,
      tradeId: String(10_000 + i),
      price: (price / 100).toFixed(2),
      size: `${(1 + Math.floor(rand() * 5_000)) / 1_000}`,
      side: rand() < 0.5 ? 'buy' : 'sell',
      eventTime: time,
      receiveTime: time + lateBy,
    });
  }
  const late = [...list].sort((a, b) => a.receiveTime - b.receiveTime);
  return { inOrder: list.map((t) => ({ ...t, receiveTime: t.eventTime })), late };
}

/** Feeds the trades in order of arrival, restoring the actor from its snapshot at each of `restores`. */
function run(list: readonly Trade[], restores: readonly number[] = []): ActorOutput {
  let actor = new MarketActor(ID, config);
  const out = createActorOutput();
  list.forEach((t, i) => {
    if (restores.includes(i)) actor = MarketActor.restore(actor.snapshot(), config);
    actor.onTrade(t, t.receiveTime, out);
  });
  actor.flush(Number.MAX_SAFE_INTEGER, out);
  return out;
}

/** The indicator table an upserting store ends with: the last value written per candle. */
function table(out: ActorOutput): IndicatorValues[] {
  const rows = new Map<string, IndicatorValues>();
  for (const v of out.indicators) rows.set(`${v.interval}:${v.openTime}`, v);
  return [...rows.values()].sort((a, b) => a.interval.localeCompare(b.interval) || a.openTime - b.openTime);
}

describe('indicators of revised candles', () => {
  for (const seed of [3, 11, 29]) {
    it(`late trades give the indicator table of the same trades in order, across restarts (seed ${seed})`, () => {
      const { inOrder, late } = trades(seed);
      const straight = run(late);
      // The late trades did revise closed candles, of the minutes and the five minutes.
      const revised = new Set(straight.revised.map((c) => c.interval));
      expect(revised.has('1m') && revised.has('5m')).toBe(true);
      const expected = table(run(inOrder));
      expect(expected.length).toBeGreaterThan(200);
      expect(table(straight)).toEqual(expected);
      const n = late.length;
      expect(table(run(late, [Math.floor(n / 3), Math.floor(n / 2), n - 5]))).toEqual(expected);
    });
  }

  it('a revision recomputes its candle and the later ones of its interval, never earlier ones', () => {
    const { late } = trades(3);
    const out = run(late);
    // Each batch of values a revision emits starts at the revised candle and runs to the newest closed.
    const revisedOpens = new Set(out.revised.filter((c) => c.interval === '1m').map((c) => c.openTime));
    const first = new Map<number, number>();
    out.indicators.forEach((v, i) => {
      if (v.interval === '1m' && !first.has(v.openTime)) first.set(v.openTime, i);
    });
    const repeated = out.indicators.filter((v, i) => v.interval === '1m' && first.get(v.openTime) !== i);
    expect(repeated.length).toBeGreaterThan(0);
    for (const v of repeated) {
      expect([...revisedOpens].some((o) => o <= v.openTime && v.openTime - o <= 2 * 60_000)).toBe(true);
    }
  });
});
