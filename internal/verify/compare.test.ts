import { describe, expect, it } from 'vitest';
import type { Candle } from '../market/candle.js';
import { compareCandle, compareCandles, createTally } from './compare.js';
import { VENUE_CONVENTIONS } from './conventions.js';
import type { VenueKline } from './kline.js';

const BINANCE = VENUE_CONVENTIONS.binance as NonNullable<(typeof VENUE_CONVENTIONS)['binance']>;
const BYBIT = VENUE_CONVENTIONS.bybit as typeof BINANCE;
const COINBASE = VENUE_CONVENTIONS.coinbase as typeof BINANCE;
const KRAKEN = VENUE_CONVENTIONS.kraken as typeof BINANCE;

// The first full minute of the shared BTCUSDT file, as tickmesh builds it and Binance prints it.
const OURS: Candle = {
  exchange: 'binance-futures',
  symbol: 'BTCUSDT',
  market: 'BTC-USDT',
  interval: '1m',
  openTime: 1582329660000,
  closeTime: 1582329719999,
  open: '9681.93',
  high: '9683.5',
  low: '9666.66',
  close: '9673.15',
  volume: '70.843',
  quoteVolume: '685362.52798',
  trades: 176,
  takerBuyVolume: '27.916',
  takerBuyQuoteVolume: '270013.19386',
  vwap: '9674.53',
  firstTradeId: '1',
  lastTradeId: '176',
  revision: 0,
  closed: true,
};
const THEIRS: VenueKline = {
  openTime: 1582329660000,
  open: '9681.93',
  high: '9683.50',
  low: '9666.66',
  close: '9673.15',
  volume: '70.843',
  quoteVolume: '685362.52798',
  trades: 176,
  takerBuyVolume: '27.916',
  takerBuyQuoteVolume: '270013.19386',
};

describe('compareCandle', () => {
  it('verifies equal decimals printed with other trailing zeros', () => {
    expect(compareCandle(OURS, { ...THEIRS, volume: '70.84300000' }, BINANCE)).toEqual({
      status: 'verified',
      openTime: OURS.openTime,
      conventionDifferences: [],
    });
  });

  it('names a changed close with both values', () => {
    const v = compareCandle(OURS, { ...THEIRS, close: '9673.16' }, BINANCE);
    expect(v).toMatchObject({
      status: 'mismatch',
      differences: [{ field: 'close', ours: '9673.15', theirs: '9673.16' }],
    });
    expect(v.status === 'mismatch' && v.likelyCause).toBeFalsy();
  });

  it('names every differing field, the trade count and taker sums included', () => {
    const v = compareCandle(
      OURS,
      { ...THEIRS, trades: 177, takerBuyQuoteVolume: '270013.19387', low: '9666.6' },
      BINANCE,
    );
    expect(v.status === 'mismatch' && v.differences.map((d) => d.field)).toEqual([
      'low',
      'trades',
      'takerBuyQuoteVolume',
    ]);
  });

  it('blames a recorded gap overlapping the window', () => {
    const gap = [{ fromTime: OURS.openTime + 30_000, toTime: OURS.openTime + 90_000 }];
    expect(compareCandle(OURS, { ...THEIRS, volume: '70.9' }, BINANCE, gap)).toMatchObject({ likelyCause: 'gap' });
    const elsewhere = [{ fromTime: OURS.closeTime + 1, toTime: OURS.closeTime + 60_000 }];
    expect(compareCandle(OURS, { ...THEIRS, volume: '70.9' }, BINANCE, elsewhere)).not.toHaveProperty('likelyCause');
  });

  it('skips fields the venue does not publish', () => {
    const { trades: _t, takerBuyVolume: _b, takerBuyQuoteVolume: _q, quoteVolume: _v, ...six } = THEIRS;
    expect(compareCandle({ ...OURS, trades: 1, quoteVolume: '1' }, six, BINANCE).status).toBe('verified');
  });

  it('is unverifiable without a venue kline', () => {
    expect(compareCandle(OURS, undefined, BINANCE).status).toBe('unverifiable');
    const empty = { ...OURS, trades: 0 };
    expect(compareCandle(empty, undefined, COINBASE)).toMatchObject({
      status: 'unverifiable',
      reason: expect.stringMatching(/without trades/),
    });
  });

  it('shows Bybit open, high and low differences as convention, not mismatch', () => {
    const bybit = { ...THEIRS, open: '9682.31', high: '9684' };
    const v = compareCandle(OURS, bybit, BYBIT);
    expect(v).toMatchObject({
      status: 'verified',
      conventionDifferences: [
        { field: 'open', ours: '9681.93', theirs: '9682.31' },
        { field: 'high', ours: '9683.5', theirs: '9684' },
      ],
    });
    expect(compareCandle(OURS, { ...bybit, close: '9673.1' }, BYBIT).status).toBe('mismatch');
  });

  it("compares Kraken's VWAP truncated to the decimals Kraken prints", () => {
    const k = { ...THEIRS, vwap: '9674.5' };
    expect(compareCandle({ ...OURS, vwap: '9674.599999' }, k, KRAKEN).status).toBe('verified');
    expect(compareCandle({ ...OURS, vwap: '9674.6' }, k, KRAKEN).status).toBe('mismatch');
  });

  it('never equals a venue value that is not a plain decimal', () => {
    expect(compareCandle(OURS, { ...THEIRS, close: '9.67315e3' }, BINANCE).status).toBe('mismatch');
  });

  it('tallies a range by status', () => {
    const tally = createTally();
    const next = { ...OURS, openTime: OURS.openTime + 60_000, closeTime: OURS.closeTime + 60_000 };
    compareCandles([OURS, next], new Map([[OURS.openTime, THEIRS]]), BINANCE, tally);
    expect(tally.counts).toEqual({ verified: 1, mismatch: 0, unverifiable: 1 });
    expect(tally.notVerified.map((v) => v.openTime)).toEqual([next.openTime]);
  });

  it('chains a Bybit range: each candle opens at the one before, the first at `before`', () => {
    const tally = createTally();
    const prev = { ...OURS, openTime: OURS.openTime - 60_000, closeTime: OURS.closeTime - 60_000, close: '9690' };
    const next = { ...OURS, openTime: OURS.openTime + 60_000, closeTime: OURS.closeTime + 60_000 };
    // Bybit's klines: open at the previous close, high and low widened to it.
    const klines = new Map([
      [OURS.openTime, { ...THEIRS, open: '9690', high: '9690' }],
      [next.openTime, { ...THEIRS, openTime: next.openTime, open: '9673.15' }],
    ]);
    const last = compareCandles([next, OURS], klines, BYBIT, tally, [], prev);
    expect(tally.counts).toEqual({ verified: 2, mismatch: 0, unverifiable: 0 });
    expect(tally.conventionDifferent).toBe(0);
    expect(last).toBe(next);
    // The first-trade open where Bybit's should be: a mismatch once the previous close is known.
    const wrong = createTally();
    compareCandles([OURS], new Map([[OURS.openTime, THEIRS]]), BYBIT, wrong, [], prev);
    expect(wrong.counts.mismatch).toBe(1);
  });
});
