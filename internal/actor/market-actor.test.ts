import { describe, expect, it } from 'vitest';
import type { Candle } from '../market/candle.js';
import type { Trade } from '../market/trade.js';
import { ConfigError } from '../runtime/errors.js';
import { type ActorConfigInput, actorConfig } from './config.js';
import { IndicatorState } from './indicators.js';
import { MarketActor } from './market-actor.js';
import { createActorOutput } from './output.js';
import { StateWriter } from './state-codec.js';

const ID = { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT' };
/** 2024-01-01T00:00:00Z, a Monday. */
const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

function trade(id: number | string, t: number, price = '100', size = '1', side: 'buy' | 'sell' = 'buy'): Trade {
  return { ...ID, tradeId: String(id), price, size, side, eventTime: T0 + t, receiveTime: T0 + t };
}

function setup(input: ActorConfigInput = {}) {
  const config = actorConfig({ intervals: ['1m'], partialUpdates: false, ...input });
  const actor = new MarketActor(ID, config);
  const out = createActorOutput();
  const feed = (...trades: Trade[]) => trades.map((t) => actor.onTrade(t, t.receiveTime, out));
  return { actor, out, feed, config };
}

const at = (list: readonly Candle[], t: number, interval = '1m') =>
  list.find((c) => c.openTime === T0 + t && c.interval === interval);

describe('MarketActor windows', () => {
  it('closes a window when the watermark (newest time - out-of-orderness) reaches its end', () => {
    const { out, feed, actor } = setup();
    feed(trade(1, 10_000), trade(2, MIN - 1), trade(3, MIN + 1_999));
    expect(out.closed).toEqual([]);
    expect(actor.watermark).toBe(T0 + MIN - 1);
    feed(trade(4, MIN + 2_000));
    expect(out.closed).toHaveLength(1);
    expect(out.closed[0]).toMatchObject({
      openTime: T0,
      closeTime: T0 + MIN - 1,
      trades: 2,
      volume: '2',
      closed: true,
      revision: 0,
      firstTradeId: '1',
      lastTradeId: '2',
    });
  });

  it('orders trades by event time then trade id, whatever the arrival order', () => {
    const { out, feed, actor } = setup();
    // 3 and 4 share a millisecond; 1 arrives last but is the earliest.
    feed(trade(4, 5_000, '104'), trade(2, 3_000, '102'), trade(3, 5_000, '103'), trade(1, 1_000, '101'));
    feed(trade(10, 2 * MIN));
    expect(out.closed[0]).toMatchObject({ open: '101', close: '104', high: '104', low: '101' });
    expect(out.closed[0]).toMatchObject({ firstTradeId: '1', lastTradeId: '4', trades: 4 });
    expect(actor.counters.accepted).toBe(5);
  });

  it('compares numeric ids numerically (9 before 10) and other ids as strings', () => {
    const { out, feed } = setup();
    feed(trade(10, 1_000, '110'), trade(9, 1_000, '109'), trade(11, 3 * MIN));
    expect(out.closed[0]).toMatchObject({ open: '109', close: '110' });
    const s = setup();
    s.feed(trade('b', 1_000, '2'), trade('a', 1_000, '1'), trade('c', 3 * MIN));
    expect(s.out.closed[0]).toMatchObject({ open: '1', close: '2' });
  });

  it('revises a closed candle for a trade within the allowed lateness, revision by revision', () => {
    const { out, feed, actor } = setup({ allowedLatenessMs: 30_000 });
    feed(trade(1, 10_000, '100'), trade(2, 20_000, '101'), trade(5, MIN + 10_000, '105'));
    expect(out.closed).toHaveLength(1);
    expect(feed(trade(3, 59_000, '99', '2', 'sell'))).toEqual(['revised']);
    expect(feed(trade(4, 59_500, '103'))).toEqual(['revised']);
    expect(out.revised.map((c) => [c.revision, c.close, c.low, c.high, c.volume, c.trades])).toEqual([
      [1, '99', '99', '101', '4', 3],
      [2, '103', '99', '103', '5', 4],
    ]);
    expect(out.revised[1]).toMatchObject({ takerBuyVolume: '3', lastTradeId: '4', closed: true });
    expect(actor.counters).toMatchObject({ revisingTrades: 2, revisedCandles: 2, late: 0 });
  });

  it('hands trades past the allowed lateness to the late output, never to a candle', () => {
    const { out, feed, actor } = setup({ allowedLatenessMs: 30_000 });
    feed(trade(1, 10_000), trade(2, MIN + 32_000));
    expect(feed(trade(3, 59_999))).toEqual(['late']);
    expect(out.late).toEqual([{ trade: trade(3, 59_999), watermark: T0 + MIN + 30_000 }]);
    expect(out.revised).toEqual([]);
    expect(actor.counters.late).toBe(1);
  });

  it('decides lateness on every interval together, so they never disagree', () => {
    const { out, feed } = setup({ intervals: ['1m', '1h'], allowedLatenessMs: 10_000, detectors: { interval: '1m' } });
    feed(trade(1, 10_000), trade(2, MIN + 15_000));
    // Its 1h window is open, but its 1m window is past the lateness: late for both.
    expect(feed(trade(3, 30_000))).toEqual(['late']);
    feed(trade(4, 2 * 3_600_000));
    expect(at(out.closed, 0, '1h')).toMatchObject({ trades: 2 });
  });

  it('counts a trade seen twice once, numeric or not, in or out of order', () => {
    const { out, feed, actor } = setup();
    expect(feed(trade(1, 1_000), trade(2, 2_000), trade(1, 1_000), trade(2, 2_000))).toEqual([
      'accepted',
      'accepted',
      'duplicate',
      'duplicate',
    ]);
    expect(feed(trade('x', 3_000), trade('x', 3_000))).toEqual(['accepted', 'duplicate']);
    feed(trade(9, 2 * MIN));
    expect(out.closed[0]).toMatchObject({ trades: 3, volume: '3' });
    expect(actor.counters.duplicates).toBe(3);
  });

  it('counts the ids of a venue that restarted its numbering instead of dropping them as duplicates', () => {
    const { out, feed, actor } = setup({ allowedLatenessMs: 10 * MIN });
    // The old numbering, 4,000 to 4,009, in the first minute.
    for (let i = 0; i < 10; i++) feed(trade(4_000 + i, i * 1_000));
    // The venue starts over at 4,005 (ids it used before, all dated later), several per millisecond.
    const again = [4_005, 4_006, 4_007, 4_008, 4_009, 4_010].map((id) => trade(id, 20_000));
    expect(feed(...again)).toEqual(Array(6).fill('accepted'));
    expect(actor.counters.idResets).toBe(1);
    // Repeats of either numbering are still counted once, even one printed a millisecond later.
    expect(feed(trade(4_003, 3_000), trade(4_007, 20_000), trade(4_010, 20_001))).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    // A string id seen again, dated after everything: a new trade too.
    expect(feed(trade('x', 21_000), trade('x', 21_000), trade('x', 22_000))).toEqual([
      'accepted',
      'duplicate',
      'accepted',
    ]);
    feed(trade(4_011, 2 * MIN));
    expect(out.closed[0]).toMatchObject({ trades: 18 });
    expect(actor.counters.duplicates).toBe(4);
    expect(actor.counters.idResets).toBe(2);
  });

  it('forgets ids that can no longer change a candle: memory stays bounded', () => {
    const { actor, feed } = setup({ allowedLatenessMs: 0 });
    for (let i = 0; i < 5_000; i++) feed(trade(i * 2, i * 1_000), trade(`s${i}`, i * 1_000));
    const ids = (actor as unknown as { ids: { rangeCount: number; stringCount: number } }).ids;
    // Non-consecutive numeric ids: one range each, but only for the windows still open.
    expect(ids.rangeCount).toBeLessThan(130);
    expect(ids.stringCount).toBeLessThan(130);
    expect(actor.snapshot().length).toBeLessThan(4_000);
  });

  it('publishes an empty candle at the previous close for an interval without trades', () => {
    const { out, feed } = setup();
    feed(trade(1, 10_000, '100'), trade(2, 20_000, '101.5'), trade(3, 3 * MIN + 5_000, '99'));
    expect(out.closed.map((c) => c.openTime - T0)).toEqual([0, MIN, 2 * MIN]);
    const empty = out.closed[1] as Candle;
    expect(empty).toMatchObject({
      open: '101.5',
      high: '101.5',
      low: '101.5',
      close: '101.5',
      volume: '0',
      quoteVolume: '0',
      trades: 0,
      takerBuyVolume: '0',
      takerBuyQuoteVolume: '0',
      vwap: '101.5',
      firstTradeId: '',
      lastTradeId: '',
    });
  });

  it('closes a quiet market from the watermark it is advanced to (clock or partition)', () => {
    const { out, feed, actor, config } = setup();
    feed(trade(1, 10_000, '100'));
    const now = T0 + 3 * MIN + 30_000;
    actor.advance(now - config.outOfOrdernessMs, now, out);
    expect(out.closed.map((c) => [c.openTime - T0, c.trades])).toEqual([
      [0, 1],
      [MIN, 0],
      [2 * MIN, 0],
    ]);
    // A lower watermark later never reopens anything.
    actor.advance(T0, now, out);
    expect(actor.watermark).toBe(now - config.outOfOrdernessMs);
    expect(feed(trade(2, 2 * MIN + 59_000))).toEqual(['revised']);
  });

  it('never publishes empty candles before the first trade', () => {
    const { out, actor } = setup();
    actor.advance(T0 + 10 * MIN, 0, out);
    expect(out.closed).toEqual([]);
  });

  it('re-prices later empty candles when a late trade changes the close they carry', () => {
    const { out, feed } = setup({ allowedLatenessMs: 5 * MIN });
    feed(trade(1, 10_000, '100'), trade(3, 3 * MIN + 10_000, '103'));
    expect(out.closed.map((c) => c.close)).toEqual(['100', '100', '100']);
    feed(trade(2, 50_000, '101'));
    expect(out.revised.map((c) => [c.openTime - T0, c.revision, c.close, c.trades])).toEqual([
      [0, 1, '101', 2],
      [MIN, 1, '101', 0],
      [2 * MIN, 1, '101', 0],
    ]);
    // The next empty window carries the revised close too.
    feed(trade(4, 6 * MIN + 10_000, '104'));
    expect(at(out.closed, 4 * MIN)).toMatchObject({ close: '103' });
  });

  it('fills a late trade into an empty closed window, which then carries its own prices', () => {
    const { out, feed } = setup({ allowedLatenessMs: 5 * MIN });
    feed(trade(1, 10_000, '100'), trade(3, 3 * MIN + 10_000, '103'));
    feed(trade(2, MIN + 30_000, '98', '2', 'sell'));
    expect(out.revised.map((c) => [c.openTime - T0, c.revision, c.open, c.close, c.volume])).toEqual([
      [MIN, 1, '98', '98', '2'],
      [2 * MIN, 1, '98', '98', '0'],
    ]);
  });

  it('creates windows before the first closed one for a late trade at the start of a market', () => {
    const { out, feed, actor } = setup({
      allowedLatenessMs: 3 * MIN,
      intervals: ['1m', '5m'],
      detectors: { interval: '1m' },
    });
    feed(trade(5, 5 * MIN + 30_000, '105'));
    actor.advance(T0 + 6 * MIN + 1_000, 0, out);
    expect(out.closed.map((c) => [c.interval, c.openTime - T0])).toEqual([['1m', 5 * MIN]]);
    expect(feed(trade(3, 3 * MIN + 30_000, '103'))).toEqual(['revised']);
    const ones = out.closed.filter((c) => c.interval === '1m').map((c) => [c.openTime - T0, c.close, c.trades]);
    expect(ones).toEqual([
      [5 * MIN, '105', 1],
      [3 * MIN, '103', 1],
      [4 * MIN, '103', 0],
    ]);
    // The 5m window [5, 10) is still open; [0, 5) closed with the late trade in it.
    feed(trade(9, 11 * MIN));
    expect(at(out.closed, 0, '5m')).toMatchObject({ trades: 1, close: '103' });
    expect(at(out.closed, 5 * MIN, '5m')).toMatchObject({ trades: 1, close: '105' });
  });

  it('lets an early on-time trade open a window before the first one while nothing has closed', () => {
    const { out, feed } = setup();
    feed(trade(2, MIN + 1_000, '102'), trade(1, MIN - 500, '101'));
    feed(trade(3, 3 * MIN + 2_000));
    expect(out.closed.map((c) => [c.openTime - T0, c.close])).toEqual([
      [0, '101'],
      [MIN, '102'],
      [2 * MIN, '102'],
    ]);
  });

  it('flushes at end of input without empty candles after the last trade', () => {
    const { out, feed, actor } = setup({ intervals: ['1m', '1h'], detectors: { interval: '1m' } });
    feed(trade(1, 10_000), trade(2, 2 * MIN + 10_000));
    actor.flush(0, out);
    expect(out.closed.map((c) => [c.interval, c.openTime - T0, c.trades])).toEqual([
      ['1m', 0, 1],
      ['1m', MIN, 0],
      ['1m', 2 * MIN, 1],
      ['1h', 0, 2],
    ]);
  });

  it('keeps a quiet spell of a day bounded in memory while publishing every empty candle', () => {
    const { out, feed, actor } = setup();
    feed(trade(1, 0));
    actor.advance(T0 + 2 * 3_600_000, 0, out);
    const twoHours = actor.snapshot().length;
    actor.advance(T0 + 86_400_000, 0, out);
    expect(out.closed).toHaveLength(1_440);
    // Only the windows within the lateness are kept: a day of silence costs what two hours do.
    expect(actor.snapshot().length).toBeLessThanOrEqual(twoHours + 8);
  });

  it('aligns 1w windows to Monday 00:00 UTC and 1s windows to the second', () => {
    const { out, feed, actor } = setup({ intervals: ['1s', '1w'], detectors: { interval: '1s' } });
    const wednesday = 2 * 86_400_000 + 5_123;
    feed(trade(1, wednesday));
    actor.flush(0, out);
    expect(at(out.closed, 0, '1w')).toMatchObject({ closeTime: T0 + 7 * 86_400_000 - 1 });
    expect(at(out.closed, wednesday - 123, '1s')).toMatchObject({ closeTime: T0 + wednesday - 123 + 999 });
  });

  it('holds prices and sizes of any decimals exactly, rescaling as finer ones arrive', () => {
    const { out, feed, actor } = setup();
    feed(trade(1, 1_000, '100', '3'), trade(2, 2_000, '100.25', '0.5'), trade(3, 3_000, '99.1250000', '0.00000001'));
    feed(trade(4, 3 * MIN, '1'));
    expect(actor.scales).toEqual({ price: 3, size: 8 });
    expect(out.closed[0]).toMatchObject({
      open: '100',
      high: '100.25',
      low: '99.125',
      close: '99.125',
      volume: '3.50000001',
      quoteVolume: '350.12500099125',
      vwap: '100.035714283112',
    });
  });

  it('sums notionals past 2^53 exactly', () => {
    const { out, feed } = setup();
    // 12345678.12345678 * 98765.4321 = 1219326234430.726022374638: 1.2e25 at scale 12, past 2^53
    feed(
      trade(1, 1_000, '12345678.12345678', '98765.4321'),
      trade(2, 2_000, '12345678.12345678', '98765.4321', 'sell'),
    );
    feed(trade(3, 3 * MIN));
    expect(out.closed[0]).toMatchObject({
      quoteVolume: '2438652468861.452044749276',
      takerBuyQuoteVolume: '1219326234430.726022374638',
      volume: '197530.8642',
    });
  });

  it('counts the exchange trades an aggregate trade stands for', () => {
    const { out, feed } = setup();
    feed({ ...trade(1, 1_000), tradeCount: 7 }, trade(2, 2_000), trade(3, 3 * MIN));
    expect(out.closed[0]).toMatchObject({ trades: 8 });
  });

  it('rejects what it cannot hold exactly, with a reason', () => {
    const { out, feed, actor } = setup();
    expect(
      feed(
        trade(1, 1_000, '-1'),
        trade(2, 1_000, '1e5'),
        trade(3, 1_000, '0'),
        trade(4, 1_000, '100', '0.000'),
        { ...trade(5, 0), eventTime: Number.NaN },
        trade(6, 1_000, '90071992547409'),
        trade(7, 1_000, '1.001'),
        trade(8, 1_000, '1.0000000000000001'),
      ),
    ).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'accepted', 'rejected', 'rejected']);
    expect(out.rejected.map((r) => r.reason)).toEqual([
      'invalid-price',
      'invalid-price',
      'invalid-price',
      'invalid-size',
      'invalid-time',
      'precision',
      'invalid-price',
    ]);
    expect(actor.counters.rejected).toBe(7);
  });
});

describe('MarketActor scale growth', () => {
  it("refuses a finer scale that would push a window's wide sums past 2^105, and still snapshots", () => {
    const { actor, out, feed, config } = setup();
    // Two wide notionals, then a trade that asks for 7 more price and 14 more size decimals:
    // rescaling the quote sum by 10^21 would overflow its two-double representation.
    expect(feed(trade(1, 1_000, '51665', '785151'), trade(2, 2_000, '51665', '785151'))).toEqual([
      'accepted',
      'accepted',
    ]);
    expect(feed(trade(3, 3_000, '1.1234567', '0.00000000000001'))).toEqual(['rejected']);
    expect(out.rejected.map((r) => r.reason)).toEqual(['precision']);
    const bytes = actor.snapshot();
    expect(MarketActor.restore(bytes, config).snapshot()).toEqual(bytes);
    // A finer scale that fits is still taken.
    expect(feed(trade(4, 4_000, '1.5', '0.25'))).toEqual(['accepted']);
    feed(trade(5, 2 * MIN));
    expect(out.closed[0]).toMatchObject({ trades: 3, volume: '1570302.25', high: '51665', low: '1.5' });
  });
});

describe('MarketActor partial candles', () => {
  const partial = (input: ActorConfigInput = {}) =>
    setup({ partialUpdates: true, partialMinIntervalMs: 1_000, ...input });

  it('emits the first update after a quiet spell at once, then at most once per interval', () => {
    const { actor, out } = partial();
    const on = (id: number, t: number, now: number, price = '100') => actor.onTrade(trade(id, t, price), T0 + now, out);
    on(1, 1_000, 1_000);
    expect(out.partial.map((c) => [c.close, c.closed, c.trades])).toEqual([['100', false, 1]]);
    on(2, 1_200, 1_200, '101');
    on(3, 1_400, 1_400, '102');
    expect(out.partial).toHaveLength(1);
    actor.advance(T0, T0 + 1_999, out);
    expect(out.partial).toHaveLength(1);
    actor.advance(T0, T0 + 2_000, out);
    expect(out.partial.map((c) => [c.close, c.trades])).toEqual([
      ['100', 1],
      ['102', 3],
    ]);
    // Nothing changed since: nothing to send.
    actor.advance(T0, T0 + 9_000, out);
    expect(out.partial).toHaveLength(2);
    on(4, 9_500, 9_500, '99');
    expect(out.partial.map((c) => c.close)).toEqual(['100', '102', '99']);
    expect(actor.counters.partialCandles).toBe(3);
  });

  it('sends every interval whose open window changed', () => {
    const { actor, out } = partial({ intervals: ['1m', '5m'], detectors: { interval: '1m' } });
    actor.onTrade(trade(1, 1_000), T0, out);
    expect(out.partial.map((c) => c.interval).sort()).toEqual(['1m', '5m']);
  });

  it("publishes the market's latest trade on flushPrice: its price, id and event time, from the finest interval", () => {
    const { actor, out } = partial({ intervals: ['1m', '1h', '1w'], detectors: { interval: '1m' } });
    actor.onTrade(trade(7, 61_234, '100.5', '2'), T0, out);
    expect(out.prices).toHaveLength(0);
    actor.flushPrice(out);
    expect(out.prices).toHaveLength(1);
    const [p] = out.prices;
    // The trade's time, not the close time of any window (the 1w window closes days later).
    expect(p?.time).toBe(T0 + 61_234);
    expect(p?.candle).toMatchObject({
      interval: '1m',
      close: '100.5',
      lastTradeId: '7',
      volume: '2',
      openTime: T0 + MIN,
    });
    // Nothing accepted since: nothing to send.
    actor.flushPrice(out);
    expect(out.prices).toHaveLength(1);
    // An older trade arriving later (still inside the open minute) does not make the price older.
    actor.onTrade(trade(8, 60_500, '99'), T0 + 5_000, out);
    actor.flushPrice(out);
    expect(out.prices.map((x) => [x.candle.close, x.time])).toEqual([
      ['100.5', T0 + 61_234],
      ['100.5', T0 + 61_234],
    ]);
  });

  it('sends each price apart from the partial rate limit: one per flush, the latest trades conflated', () => {
    const { actor, out } = partial({ intervals: ['1m'], detectors: { interval: '1m' }, partialMinIntervalMs: 1_000 });
    actor.onTrade(trade(1, 1_000, '100'), T0, out);
    actor.onTrade(trade(2, 1_100, '101'), T0 + 10, out);
    actor.onTrade(trade(3, 1_200, '102'), T0 + 20, out);
    actor.flushPrice(out);
    actor.onTrade(trade(4, 1_300, '103'), T0 + 30, out);
    actor.flushPrice(out);
    // The partials wait for their rate limit; the prices did not.
    expect(out.partial.map((c) => c.close)).toEqual(['100']);
    expect(out.prices.map((x) => [x.candle.close, x.candle.lastTradeId])).toEqual([
      ['102', '3'],
      ['103', '4'],
    ]);
  });

  it('sends nothing when partial updates are off', () => {
    const { actor, out } = setup();
    actor.onTrade(trade(1, 1_000), T0, out);
    actor.advance(T0, T0 + 10_000, out);
    expect(out.partial).toEqual([]);
    expect(actor.openCandles()).toMatchObject([{ trades: 1, closed: false }]);
  });
});

describe('MarketActor checkpoint', () => {
  it('is compact and restores only under the same intervals and look-backs', () => {
    const { actor, feed, config } = setup({ allowedLatenessMs: 30_000 });
    for (let i = 0; i < 1_000; i++) feed(trade(1_000_000 + i, i * 100, String(100 + (i % 7)), '0.01'));
    const bytes = actor.snapshot();
    // Version 4 adds the indicator replay base: the EMAs and the slots the held candles overwrote.
    expect(bytes.length).toBeLessThan(760);
    expect(MarketActor.restore(bytes, config).snapshot()).toEqual(bytes);
    expect(() => MarketActor.restore(bytes, actorConfig({ intervals: ['1m', '5m'] }))).toThrow(ConfigError);
    expect(() =>
      MarketActor.restore(bytes, actorConfig({ intervals: ['1m'], indicators: { smaPeriods: [50] } })),
    ).toThrow(ConfigError);
    expect(() => MarketActor.restore(bytes.subarray(0, 40), config)).toThrow();
    expect(() => MarketActor.restore(new Uint8Array([9]), config)).toThrow(ConfigError);
  });

  it('restores version 1, 2 and 3 checkpoints (before the idResets counter, the trend models, the replay bases)', () => {
    const { actor, feed, config } = setup({ trend: { enabled: false } });
    for (let i = 0; i < 50; i++) feed(trade(1_000 + i, i * 1_000));
    const v4 = actor.snapshot();
    // Version 3 is version 4 without the indicator replay base of the interval (a fresh one:
    // nothing closed yet) and where feeding starts (NaN).
    const base = new StateWriter();
    const fresh = new IndicatorState(config.indicators, 60_000);
    fresh.writeDiff(base, []);
    base.time(Number.NaN);
    const tail = base.finish();
    expect(v4.subarray(v4.length - tail.length)).toEqual(tail);
    const v3 = new Uint8Array([3, ...v4.subarray(1, v4.length - tail.length)]);
    expect(MarketActor.restore(v3, config).snapshot()).toEqual(v4);
    // Version 2 is version 3 without the count of trend models (0 here: the last byte).
    expect(v3[v3.length - 1]).toBe(0);
    const v2 = new Uint8Array([2, ...v3.subarray(1, v3.length - 1)]);
    expect(MarketActor.restore(v2, config).snapshot()).toEqual(v4);
    // Version 1 is version 2 without the last counter (found after the header: accepted = 50, then 0s).
    const countersAt = [...v2].findIndex((_, i) => i > 20 && v2[i] === 50 && v2[i + 1] === 0);
    expect(countersAt).toBeGreaterThan(0);
    const idResetsAt = countersAt + 11;
    expect(v2[idResetsAt]).toBe(0);
    const v1 = new Uint8Array([1, ...v2.subarray(1, idResetsAt), ...v2.subarray(idResetsAt + 1)]);
    expect(MarketActor.restore(v1, config).snapshot()).toEqual(v4);
  });
});

describe('MarketActor empty-candle limit', () => {
  it('publishes at most the limit of empty candles per step and counts the rest', () => {
    const { out, feed, actor } = setup({ emptyCandleLimit: 100, allowedLatenessMs: 0 });
    feed(trade(1, 0, '100'));
    // A bogus trade a year ahead: 525,600 minutes of silence in between.
    feed(trade(2, 365 * 86_400_000 + 30_000, '101'));
    feed(trade(3, 365 * 86_400_000 + 2 * MIN, '101'));
    const empty = out.closed.filter((c) => c.trades === 0);
    expect(empty).toHaveLength(100);
    expect(actor.counters.skippedEmptyCandles).toBe(525_600 - 1 - 100);
    // The published ones are the latest, right before the trade, at the previous close.
    expect(empty[99]).toMatchObject({ openTime: T0 + 365 * 86_400_000 - MIN, close: '100' });
    expect(out.closed[out.closed.length - 1]).toMatchObject({ trades: 1, close: '101' });
  });
});
