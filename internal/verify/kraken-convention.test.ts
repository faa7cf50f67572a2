import { describe, expect, it } from 'vitest';
import {
  KRAKEN_FROM,
  KRAKEN_TO,
  krakenRecordedKlines,
  krakenRecordedTrades,
} from '../../test/support/kraken-rest-recording.js';
import { actorConfig } from '../actor/config.js';
import { MarketActor } from '../actor/market-actor.js';
import { createActorOutput } from '../actor/output.js';
import type { Candle } from '../market/candle.js';
import type { Trade } from '../market/trade.js';
import { compareCandle, compareCandles, createTally } from './compare.js';
import { VENUE_CONVENTIONS, type VenueConvention } from './conventions.js';

/**
 * Kraken's 1m OHLC against tickmesh's candles of Kraken's own trades: a recorded REST OHLC answer
 * and a recorded REST Trades page of XBT/USDT of the same hours (test/fixtures/
 * kraken-xbtusdt-rest-2025-11-10, SOURCE.md), each read by tickmesh's own client (the Kraken
 * adapter's backfill, `tickmesh verify`'s kline source; test/support/kraken-rest-recording.ts).
 */
const KRAKEN = VENUE_CONVENTIONS.kraken as VenueConvention;
const MIN = 60_000;

/** tickmesh's closed 1m candles of `trades` (replayed in id order) from KRAKEN_FROM to KRAKEN_TO. */
function candlesOf(trades: readonly Trade[]): Candle[] {
  const actor = new MarketActor(trades[0] as Trade, actorConfig({ intervals: ['1m'], partialUpdates: false }));
  const out = createActorOutput();
  for (const t of trades) actor.onTrade(t, 0, out);
  actor.advance(KRAKEN_TO + MIN, 0, out);
  return out.closed.filter((c) => c.openTime >= KRAKEN_FROM && c.openTime < KRAKEN_TO);
}

/** `s` (a plain decimal) rounded half up to `decimals` fractional digits. */
function roundHalfUp(s: string, decimals: number): string {
  const [whole = '0', frac = ''] = s.split('.');
  const digits = BigInt(whole + frac.padEnd(decimals + 1, '0').slice(0, decimals + 1));
  const rounded = (digits + 5n) / 10n;
  const text = rounded.toString().padStart(decimals + 1, '0');
  return `${text.slice(0, -decimals)}.${text.slice(-decimals)}`;
}

function truncated(s: string, decimals: number): string {
  const [whole = '0', frac = ''] = s.split('.');
  return `${whole}.${frac.padEnd(decimals, '0').slice(0, decimals)}`;
}

describe('Kraken XBT/USDT, recorded OHLC and Trades of 2025-11-10', () => {
  it('reads the recordings through tickmesh’s own clients: 1000 gapless trades, 409 whole minutes', async () => {
    const { trades, urls } = await krakenRecordedTrades();
    expect(trades).toHaveLength(1000);
    expect(trades.map((t) => Number(t.tradeId))).toEqual(Array.from({ length: 1000 }, (_, i) => 10218208 + i));
    expect(trades[0]).toMatchObject({ price: '105433.60000', size: '0.00027625', side: 'buy' });
    expect(trades[0]?.eventTime).toBe(1762795433971);
    expect(urls).toHaveLength(1);
    expect(urls[0]?.searchParams.get('pair')).toBe('BTCUSDT');

    const { klines } = await krakenRecordedKlines();
    expect(klines.size).toBe((KRAKEN_TO - KRAKEN_FROM) / MIN);
    expect(klines.get(Date.UTC(2025, 10, 10, 17, 27))).toEqual({
      openTime: Date.UTC(2025, 10, 10, 17, 27),
      open: '105413.6',
      high: '105413.6',
      low: '105413.6',
      close: '105413.6',
      vwap: '105413.6',
      volume: '0.01900000',
      trades: 2,
    });
  });

  it('verifies every whole minute: OHLC, volume, count and the truncated VWAP; empty minutes flat, no VWAP', async () => {
    const { trades } = await krakenRecordedTrades();
    const { klines } = await krakenRecordedKlines();
    const candles = candlesOf(trades);
    expect(candles).toHaveLength(409);
    expect(candles.filter((c) => c.trades > 0)).toHaveLength(272);

    const tally = createTally();
    compareCandles(candles, klines, KRAKEN, tally);
    expect(tally.notVerified).toEqual([]);
    expect(tally.counts).toEqual({ verified: 409, mismatch: 0, unverifiable: 0 });

    // Kraken prints an empty minute's VWAP as 0.0 (not the close): the client leaves it out.
    const empty = candles.find((c) => c.trades === 0) as Candle;
    expect(klines.get(empty.openTime)).toMatchObject({ volume: '0.00000000', trades: 0, open: empty.close });
    expect(klines.get(empty.openTime)?.vwap).toBeUndefined();
  });

  it('shows the VWAP truncated, not rounded, to the pair’s one decimal: rounding is wrong in 71 minutes', async () => {
    const { trades } = await krakenRecordedTrades();
    const { klines } = await krakenRecordedKlines();
    let agreeTruncated = 0;
    let agreeRounded = 0;
    const traded = candlesOf(trades).filter((c) => c.trades > 0);
    for (const c of traded) {
      const theirs = klines.get(c.openTime)?.vwap as string;
      expect(theirs).toMatch(/^\d+\.\d$/);
      if (truncated(c.vwap, 1) === theirs) agreeTruncated++;
      if (roundHalfUp(c.vwap, 1) === theirs) agreeRounded++;
    }
    expect([traded.length, agreeTruncated, agreeRounded]).toEqual([272, 272, 201]);

    // Without the truncation rule, every minute whose VWAP has more than one decimal is a mismatch
    // on the VWAP alone (the others: one trade, or trades at one price).
    const exact: VenueConvention = { ...KRAKEN, truncated: [] };
    const tally = createTally();
    compareCandles(traded, klines, exact, tally);
    expect(tally.counts).toEqual({ verified: 130, mismatch: 142, unverifiable: 0 });
    const fields = new Set(
      tally.notVerified.flatMap((v) => (v.status === 'mismatch' ? v.differences : [])).map((d) => d.field),
    );
    expect([...fields]).toEqual(['vwap']);
  });

  it('a trade taken out makes its minute a mismatch naming high, volume and count with both values', async () => {
    const { trades } = await krakenRecordedTrades();
    const { klines } = await krakenRecordedKlines();
    // 17:31 has 6 trades; the second (0.00047292 at 105496.4, the minute's high) is taken out.
    const minute = Date.UTC(2025, 10, 10, 17, 31);
    const inMinute = trades.filter((t) => t.eventTime >= minute && t.eventTime < minute + MIN);
    expect(inMinute).toHaveLength(6);
    const removed = inMinute[1] as Trade;
    expect(removed).toMatchObject({ tradeId: '10218236', price: '105496.40000' });
    const candle = candlesOf(trades.filter((t) => t !== removed)).find((c) => c.openTime === minute) as Candle;
    const v = compareCandle(candle, klines.get(minute), KRAKEN);
    expect(v.status).toBe('mismatch');
    if (v.status !== 'mismatch') return;
    // The removed trade is small: the VWAP, truncated to one decimal, stays 105484.2.
    expect(v.differences.map((d) => d.field)).toEqual(['high', 'volume', 'trades']);
    expect(v.differences).toContainEqual({ field: 'high', ours: '105487.4', theirs: '105496.4' });
    expect(v.differences).toContainEqual({ field: 'trades', ours: '5', theirs: '6' });
  });
});
