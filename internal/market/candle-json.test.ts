import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candle } from './candle.js';
import { candleKey } from './candle.js';
import { candleJson, candleUpdateJson, jsonString } from './candle-json.js';
import type { Interval } from './interval.js';

/** Any text at all: quotes, backslashes, control characters, non-ASCII, lone surrogates. */
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '"', '\\', '\n', '\u0000', '\u007f', 'é', '\ud800', '😀', '42000.10', '-0.5'),
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, 1e21, 1_700_000_000_000),
);

/** Built in the Candle interface's property order, as the actors build them. */
const candle: fc.Arbitrary<Candle> = fc
  .record({
    exchange: text,
    symbol: text,
    market: text,
    interval: text,
    openTime: number,
    closeTime: number,
    open: text,
    high: text,
    low: text,
    close: text,
    volume: text,
    quoteVolume: text,
    trades: number,
    takerBuyVolume: text,
    takerBuyQuoteVolume: text,
    vwap: text,
    firstTradeId: text,
    lastTradeId: text,
    revision: number,
    closed: fc.boolean(),
  })
  .map((c) => ({ ...c, interval: c.interval as Interval }));

describe('candle JSON', () => {
  it('is exactly what JSON.stringify writes, for any field values', () => {
    fc.assert(
      fc.property(candle, (c) => {
        expect(candleJson(c)).toBe(JSON.stringify(c));
        expect(candleUpdateJson(c)).toBe(JSON.stringify({ key: candleKey(c), ...c }));
      }),
      { numRuns: 2_000 },
    );
  });

  it('parses back to the candle', () => {
    const c: Candle = {
      exchange: 'binance',
      symbol: 'BTCUSDT',
      market: 'BTC-USDT',
      interval: '1m',
      openTime: 1_700_000_040_000,
      closeTime: 1_700_000_099_999,
      open: '42000.10',
      high: '42010',
      low: '41999.5',
      close: '42005',
      volume: '1.25',
      quoteVolume: '52506.3',
      trades: 3,
      takerBuyVolume: '0.5',
      takerBuyQuoteVolume: '21002.5',
      vwap: '42005.04',
      firstTradeId: '7',
      lastTradeId: '9',
      revision: 0,
      closed: false,
    };
    expect(JSON.parse(candleJson(c))).toEqual(c);
    expect(JSON.parse(candleUpdateJson(c))).toEqual({ key: 'binance:BTCUSDT:1m:1700000040000', ...c });
  });

  it('quotes plain text as is and escapes the rest as JSON does', () => {
    expect(jsonString('BTC-USDT')).toBe('"BTC-USDT"');
    expect(jsonString('a"b')).toBe('"a\\"b"');
    expect(jsonString('a\\b')).toBe('"a\\\\b"');
    expect(jsonString('\t')).toBe('"\\t"');
    expect(jsonString('\ud800')).toBe('"\\ud800"');
  });
});
