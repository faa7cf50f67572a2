import { describe, expect, it } from 'vitest';
import { type Candle, candleKey } from '../market/candle.js';
import type { Interval } from '../market/interval.js';
import type { Trade } from '../market/trade.js';
import { actorConfig } from './config.js';
import { MarketActor } from './market-actor.js';
import { type ActorOutput, createActorOutput } from './output.js';
import { referenceCandles } from './reference.js';
import { rollUp } from './rollup.js';

const ID = { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT' };
const INTERVALS: Interval[] = ['1h', '1d', '3d', '1w', '1M'];
const OOO = 2_000;

/**
 * Trades from 2024-01-20 to 2024-04-05 (through a leap February and three month ends), one every
 * 97 minutes and a few seconds, with a silence of 12 days in March. Late ones: a trade 30 s
 * before an hour (or a month) ends arrives after one 10 s into the next, once the watermark has
 * closed the earlier window, so it revises it (within the minute's lateness).
 */
function trades(): { trades: Trade[]; arrival: Trade[] } {
  const out: Trade[] = [];
  let i = 0;
  const trade = (eventTime: number, receiveTime = eventTime): void => {
    out.push({
      ...ID,
      tradeId: String(1000 + i),
      price: `${40_000 + ((i * 7919) % 5000)}.${i % 10}`,
      size: `0.${String(1 + ((i * 31) % 997)).padStart(3, '0')}`,
      side: i % 3 === 0 ? 'sell' : 'buy',
      eventTime,
      receiveTime,
    });
    i++;
  };
  const latePair = (boundary: number): void => {
    trade(boundary + 10_000);
    trade(boundary - 30_000, boundary + 10_001);
  };
  for (let t = Date.UTC(2024, 0, 20, 3, 7); t < Date.UTC(2024, 3, 5); ) {
    if (i % 5 === 4) latePair(Math.ceil(t / 3_600_000) * 3_600_000);
    else trade(t);
    t += 97 * 60_000 + (i % 13) * 1_000;
    if (t >= Date.UTC(2024, 2, 10) && t < Date.UTC(2024, 2, 22)) t = Date.UTC(2024, 2, 22, 0, 0, 1);
  }
  for (const month of [1, 2, 3]) latePair(Date.UTC(2024, month, 1));
  out.sort((a, b) => a.eventTime - b.eventTime);
  const arrival = [...out].sort((a, b) => a.receiveTime - b.receiveTime);
  return { trades: out, arrival };
}

function run(arrival: readonly Trade[], restoreAt: number): ActorOutput {
  const config = actorConfig({
    intervals: INTERVALS,
    outOfOrdernessMs: OOO,
    allowedLatenessMs: 60_000,
    detectors: { interval: '1h' },
  });
  let actor = new MarketActor(ID, config);
  const out = createActorOutput();
  arrival.forEach((t, i) => {
    if (i === restoreAt) actor = MarketActor.restore(actor.snapshot(), config);
    actor.onTrade(t, t.receiveTime, out);
  });
  actor.flush(Number.MAX_SAFE_INTEGER, out);
  return out;
}

function finalCandles(out: ActorOutput, interval: Interval): Candle[] {
  const m = new Map<string, Candle>();
  for (const c of [...out.closed, ...out.revised]) {
    if (c.interval !== interval) continue;
    const prev = m.get(candleKey(c));
    if (!prev || c.revision > prev.revision) m.set(candleKey(c), c);
  }
  return [...m.values()].sort((a, b) => a.openTime - b.openTime);
}

const plain = (cs: readonly Candle[]) => cs.map(({ revision: _r, closed: _c, ...rest }) => rest);

describe('3d and 1M candles from trades', () => {
  const { trades: ordered, arrival } = trades();

  it('equal the reference built window by window, late trades and a restore included', () => {
    for (const restoreAt of [-1, Math.floor(arrival.length / 2)]) {
      const out = run(arrival, restoreAt);
      // The late trades revised closed windows of every interval, months included.
      const revised = new Set(out.revised.map((c) => c.interval));
      expect(INTERVALS.filter((iv) => !revised.has(iv))).toEqual([]);
      for (const interval of INTERVALS) {
        expect(plain(finalCandles(out, interval)), `${interval}, restore at ${restoreAt}`).toEqual(
          plain(referenceCandles(ordered, interval)),
        );
      }
    }
  });

  it('open on month starts with Binance close times, and 3d on Binance threes of days from 1970-01-02', () => {
    const out = run(arrival, -1);
    const months = finalCandles(out, '1M');
    expect(months.map((c) => [new Date(c.openTime).toISOString(), new Date(c.closeTime).toISOString()])).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-01-31T23:59:59.999Z'],
      ['2024-02-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z'],
      ['2024-03-01T00:00:00.000Z', '2024-03-31T23:59:59.999Z'],
      ['2024-04-01T00:00:00.000Z', '2024-04-30T23:59:59.999Z'],
    ]);
    // Months hold exactly the trades dated in them.
    const inMonth = (m: number) => ordered.filter((t) => new Date(t.eventTime).getUTCMonth() === m).length;
    expect(months.map((c) => c.trades)).toEqual([0, 1, 2, 3].map(inMonth));
    for (const c of finalCandles(out, '3d')) {
      expect(c.openTime % (3 * 86_400_000)).toBe(86_400_000);
      expect(c.closeTime - c.openTime + 1).toBe(3 * 86_400_000);
    }
  });

  it('roll up from the day candles where the days nest', () => {
    const out = run(arrival, -1);
    const days = finalCandles(out, '1d');
    for (const interval of ['3d', '1w', '1M'] as const) {
      const whole = finalCandles(out, interval).filter((c) => c.openTime >= (days[0] as Candle).openTime);
      const rolled = rollUp(days, interval);
      // The first and last windows are only partly covered by days: left out of the roll-up.
      expect(plain(rolled)).toEqual(plain(whole.filter((c) => rolled.some((r) => r.openTime === c.openTime))));
      expect(rolled.length).toBeGreaterThan(0);
    }
  });
});
