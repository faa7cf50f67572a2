import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../market/alert.js';
import { type Candle, candleKey } from '../market/candle.js';
import type { Interval } from '../market/interval.js';
import type { Trade } from '../market/trade.js';
import { type ActorConfig, actorConfig } from './config.js';
import { MarketActor } from './market-actor.js';
import { type ActorOutput, createActorOutput, type IndicatorValues, type LateTrade } from './output.js';
import { referenceCandles } from './reference.js';
import { rollUp } from './rollup.js';

const ID = { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT' };
const OOO = 2_000;
/** TICKMESH_FC_RUNS=5000 for a long soak. */
const RUNS = Number(process.env.TICKMESH_FC_RUNS ?? 150);

function decimal(v: number, decimals: number, zeros: number): string {
  const s = String(v).padStart(decimals + 1, '0');
  const text = decimals === 0 ? s : `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}`;
  return zeros > 0 ? `${text}${decimals === 0 ? '.' : ''}${'0'.repeat(zeros)}` : text;
}

interface Step {
  gap: number;
  price: number;
  pd: number;
  size: number;
  sd: number;
  zeros: number;
  buy: boolean;
  jitter: number;
}

const step = (maxJitter: number, big = false): fc.Arbitrary<Step> =>
  fc.record({
    gap: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 4_000 }) }, fc.integer({ min: 0, max: 400_000 })),
    price: fc.integer({ min: 1, max: 5_000_000 }),
    pd: fc.integer({ min: 0, max: 4 }),
    // Scaled sizes stay below 2^53 at the largest scale (8): real units up to 9e7.
    size: big
      ? fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 9e7 }))
      : fc.integer({ min: 1, max: 1e6 }),
    sd: fc.integer({ min: 0, max: 8 }),
    zeros: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 3 })),
    buy: fc.boolean(),
    jitter: fc.integer({ min: 0, max: maxJitter }),
  });

interface Stream {
  trades: Trade[];
  /** Arrival order: trade t_i + jitter_i, stable. */
  arrival: Trade[];
}

const stream = (maxJitter: number, opts: { big?: boolean; stringIds?: boolean } = {}): fc.Arbitrary<Stream> =>
  fc
    .record({
      start: fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }),
      firstId: fc.integer({ min: 0, max: 1e12 }),
      steps: fc.array(step(maxJitter, opts.big), { minLength: 1, maxLength: 150 }),
    })
    .map(({ start, firstId, steps }) => {
      let time = start;
      const keyed = steps.map((s, i) => {
        time += s.gap;
        const trade: Trade = {
          ...ID,
          tradeId: opts.stringIds ? `t-${(firstId + i).toString(36)}` : String(firstId + i),
          price: decimal(s.price, s.pd, s.zeros),
          size: decimal(s.size, s.sd, 0),
          side: s.buy ? 'buy' : 'sell',
          eventTime: time,
          receiveTime: time + s.jitter,
        };
        return { trade, key: time + s.jitter, i };
      });
      const arrival = [...keyed].sort((a, b) => a.key - b.key || a.i - b.i).map((k) => k.trade);
      return { trades: keyed.map((k) => k.trade), arrival };
    });

interface Run {
  out: ActorOutput;
  actor: MarketActor;
}

function run(config: ActorConfig, trades: readonly Trade[], checkpointAt = -1): Run {
  let actor = new MarketActor(ID, config);
  const out = createActorOutput();
  trades.forEach((t, i) => {
    if (i === checkpointAt) actor = MarketActor.restore(actor.snapshot(), config);
    actor.onTrade(t, t.receiveTime, out);
    if (i % 7 === 6) actor.advance(t.receiveTime - config.outOfOrdernessMs, t.receiveTime + 10, out);
  });
  if (checkpointAt === trades.length) actor = MarketActor.restore(actor.snapshot(), config);
  actor.flush(Number.MAX_SAFE_INTEGER, out);
  return { out, actor };
}

const byKey = (a: Candle, b: Candle): number =>
  candleKey(a) < candleKey(b) ? -1 : candleKey(a) > candleKey(b) ? 1 : 0;
const sortCandles = (list: readonly Candle[]): Candle[] => [...list].sort(byKey);
const sortIndicators = (list: readonly IndicatorValues[]): IndicatorValues[] =>
  [...list].sort((a, b) => a.interval.localeCompare(b.interval) || a.openTime - b.openTime);
const sortAlerts = (list: readonly Alert[]): Alert[] => [...list].sort((a, b) => (a.id < b.id ? -1 : 1));

/** The last emitted state of every candle: what an upserting store ends with. */
function finalCandles(out: ActorOutput): Candle[] {
  const m = new Map<string, Candle>();
  for (const c of [...out.closed, ...out.revised]) {
    const prev = m.get(candleKey(c));
    if (!prev || c.revision > prev.revision) m.set(candleKey(c), c);
  }
  return sortCandles([...m.values()]);
}

const INTERVALS: Interval[] = ['1m', '3m', '5m', '15m', '1h'];
const offline = actorConfig({ intervals: INTERVALS, outOfOrdernessMs: OOO, partialUpdates: false });

describe('actor properties', () => {
  it('equals the reference computation for every interval, exactly (wide sums included)', () => {
    // The second set has intervals that do not nest in the finest one (5m in 3m), and 1s.
    const sets: Interval[][] = [INTERVALS, ['3m', '5m', '1h'], ['1s', '1m', '1d']];
    fc.assert(
      fc.property(stream(0, { big: true }), fc.constantFrom(...sets), ({ trades }, intervals) => {
        const config = actorConfig({
          intervals,
          outOfOrdernessMs: OOO,
          partialUpdates: false,
          detectors: { interval: intervals[0] },
        });
        const { out } = run(config, trades);
        expect(out.revised).toEqual([]);
        for (const interval of intervals) {
          expect(out.closed.filter((c) => c.interval === interval)).toEqual(referenceCandles(trades, interval));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('shows every open window, at every trade, as the reference over the trades so far', () => {
    const config = actorConfig({
      intervals: ['1m', '3m', '5m', '1h'],
      partialUpdates: false,
      allowedLatenessMs: 30_000,
    });
    fc.assert(
      fc.property(stream(OOO + 60_000), ({ arrival }) => {
        const actor = new MarketActor(ID, config);
        const out = createActorOutput();
        const seen: Trade[] = [];
        arrival.forEach((t) => {
          if (actor.onTrade(t, 0, out) !== 'late') seen.push(t);
          for (const c of actor.openCandles()) {
            const inside = seen.filter((s) => s.eventTime >= c.openTime && s.eventTime <= c.closeTime);
            expect(c).toEqual({ ...referenceCandles(inside, c.interval)[0], closed: false });
          }
        });
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it('any reordering within the allowed out-of-orderness yields the same outputs', () => {
    fc.assert(
      fc.property(stream(OOO), ({ trades, arrival }) => {
        const a = run(offline, trades).out;
        const b = run(offline, arrival).out;
        expect(b.late).toEqual([]);
        expect(b.revised).toEqual([]);
        expect(sortCandles(b.closed)).toEqual(sortCandles(a.closed));
        expect(sortIndicators(b.indicators)).toEqual(sortIndicators(a.indicators));
        expect(sortAlerts(b.alerts)).toEqual(sortAlerts(a.alerts));
      }),
      { numRuns: RUNS },
    );
  });

  it('any duplication (a copy arriving any time after the original) yields the same candles', () => {
    fc.assert(
      fc.property(
        stream(0, { stringIds: false }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 40 }),
        fc.boolean(),
        ({ trades }, copies, stringIds) => {
          const base = stringIds ? trades.map((t) => ({ ...t, tradeId: `x${t.tradeId}` })) : trades;
          const withCopies: Trade[] = [...base];
          for (const [which, delay] of copies) {
            const i = which % base.length;
            const at = Math.min(withCopies.length, withCopies.indexOf(base[i] as Trade) + 1 + (delay % 50));
            withCopies.splice(at, 0, { ...(base[i] as Trade) });
          }
          const a = run(offline, base);
          const b = run(offline, withCopies);
          expect(sortCandles(b.out.closed)).toEqual(sortCandles(a.out.closed));
          expect(b.out.revised).toEqual([]);
          expect(b.actor.counters.duplicates + b.actor.counters.late).toBe(copies.length);
          expect(b.actor.counters.accepted).toBe(base.length);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('larger intervals equal the roll-up of the 1m candles', () => {
    fc.assert(
      fc.property(stream(OOO), ({ arrival }) => {
        const { out } = run(offline, arrival);
        const ones = out.closed.filter((c) => c.interval === '1m').sort(byKey);
        for (const interval of INTERVALS.slice(1)) {
          const built = new Map(out.closed.filter((c) => c.interval === interval).map((c) => [c.openTime, c]));
          for (const r of rollUp(ones, interval)) expect(built.get(r.openTime)).toEqual(r);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('late trades within the lateness revise candles to the reference over the accepted trades', () => {
    const config = actorConfig({
      intervals: INTERVALS,
      outOfOrdernessMs: OOO,
      allowedLatenessMs: 30_000,
      partialUpdates: false,
    });
    fc.assert(
      fc.property(stream(OOO + 90_000), ({ arrival }) => {
        const { out, actor } = run(config, arrival);
        const late = new Set(out.late.map((l: LateTrade) => l.trade));
        const accepted = arrival.filter((t) => !late.has(t)).sort((a, b) => a.eventTime - b.eventTime);
        const final = finalCandles(out);
        for (const interval of INTERVALS) {
          const ref = referenceCandles(accepted, interval);
          const last = ref[ref.length - 1] as Candle;
          const mine = final.filter((c) => c.interval === interval).map((c) => ({ ...c, revision: 0 }));
          expect(mine.filter((c) => c.openTime <= last.openTime)).toEqual(ref);
          // advance() closed the quiet windows after the last trade: empty, at the last close.
          for (const c of mine.filter((c) => c.openTime > last.openTime)) {
            expect([c.trades, c.open, c.close, c.volume]).toEqual([0, last.close, last.close, '0']);
          }
        }
        expect(actor.counters.accepted + actor.counters.late).toBe(arrival.length);
        expect(actor.counters.revisedCandles).toBe(out.revised.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('a checkpoint taken at any trade and restored yields the same outputs as no checkpoint', () => {
    const config = actorConfig({
      intervals: ['1m', '5m', '1h'],
      outOfOrdernessMs: OOO,
      allowedLatenessMs: 20_000,
      partialMinIntervalMs: 500,
      detectors: {
        interval: '1m',
        priceSpike: { minSamples: 3 },
        volumeSpike: { minSamples: 3, window: 5 },
        whaleTrade: { notional: '50000' },
        staleMarket: { afterMs: 60_000, minTradesPerCandle: 0.5 },
      },
      indicators: { smaPeriods: [3, 5], emaPeriods: [2], volatilityPeriod: 3, vwapPeriod: 4 },
    });
    fc.assert(
      fc.property(stream(OOO + 40_000, { big: true }), fc.nat(), fc.boolean(), ({ arrival }, at, stringIds) => {
        const trades = stringIds ? arrival.map((t) => ({ ...t, tradeId: `s${t.tradeId}` })) : arrival;
        const k = at % (trades.length + 1);
        const a = run(config, trades);
        const b = run(config, trades, k);
        expect(b.out).toEqual(a.out);
        expect(b.actor.counters).toEqual(a.actor.counters);
        expect(b.actor.snapshot()).toEqual(a.actor.snapshot());
      }),
      { numRuns: RUNS },
    );
  });
});
