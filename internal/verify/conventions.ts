import { KLINE_FIELDS, type KlineField } from './kline.js';

/**
 * How a venue's klines are built, as far as it decides what can be compared with tickmesh's
 * candles. tickmesh builds every venue's candles by one rule (Binance's): the open is the first
 * trade of the window, high and low over the window's trades, an empty window flat at the
 * previous close with volume 0 and 0 trades. Where a venue's rule differs and follows from
 * tickmesh's candles, the candle is compared as the venue builds it (`opensAtPreviousClose`);
 * where it does not, the field is listed in `conventionFields`: a difference there is reported,
 * but is not a mismatch.
 * docs/CANDLES.md "Verifying candles" has the evidence for each row.
 */
export interface VenueConvention {
  /** Fields compared exactly; a difference is a mismatch. */
  readonly fields: readonly KlineField[];
  /** Fields the venue builds by another rule: differences are reported as convention differences. */
  readonly conventionFields: readonly KlineField[];
  /**
   * Fields the venue prints truncated (not rounded) to the decimals it shows: tickmesh's exact
   * value is truncated to the venue's decimals before comparing.
   */
  readonly truncated: readonly KlineField[];
  /** Whether the venue publishes a kline for a window without trades (else: unverifiable). */
  readonly emptyWindows: boolean;
  /**
   * The venue opens each window at the previous window's close, and its high and low include
   * that open (Bybit). tickmesh's candle is compared as the venue builds it: open = the previous
   * candle's close, high and low widened to it (compare.ts, `asOpenedAtPreviousClose`). Without
   * the previous candle, open, high and low are only reported (convention differences).
   */
  readonly opensAtPreviousClose: boolean;
  /** One line for the report and the docs. */
  readonly note: string;
}

/** Every field of a Binance kline (all but VWAP, which Binance does not publish). */
const ALL: readonly KlineField[] = KLINE_FIELDS.filter((f) => f !== 'vwap');

const BINANCE: VenueConvention = {
  fields: ALL,
  conventionFields: [],
  truncated: [],
  emptyWindows: true,
  opensAtPreviousClose: false,
  note: 'every field; an empty window is flat at the previous close, volume 0, count 0 (as tickmesh)',
};

const BYBIT: VenueConvention = {
  fields: ['open', 'high', 'low', 'close', 'volume', 'quoteVolume'],
  conventionFields: [],
  truncated: [],
  emptyWindows: true,
  opensAtPreviousClose: true,
  note: 'OHLC, volume, turnover; Bybit opens each window at the previous close and its high/low include it (compared so); no count or taker-buy sums',
};

export const VENUE_CONVENTIONS: Readonly<Record<string, VenueConvention>> = Object.freeze({
  binance: BINANCE,
  'binance-futures': BINANCE,
  bybit: BYBIT,
  'bybit-linear': BYBIT,
  // The built-in simulator publishes klines by Binance's rules (internal/ingest/sim-klines.ts).
  sim: BINANCE,
  okx: {
    fields: ['open', 'high', 'low', 'close', 'volume', 'quoteVolume'],
    conventionFields: [],
    truncated: [],
    emptyWindows: true,
    opensAtPreviousClose: false,
    note: 'OHLC, base volume and quote volume (volCcyQuote); no count or taker-buy sums',
  },
  coinbase: {
    fields: ['open', 'high', 'low', 'close', 'volume'],
    conventionFields: [],
    truncated: [],
    emptyWindows: false,
    opensAtPreviousClose: false,
    note: 'OHLC and base volume; no trade count, no quote volume; no candle for a window without trades',
  },
  kraken: {
    fields: ['open', 'high', 'low', 'close', 'volume', 'trades', 'vwap'],
    conventionFields: [],
    truncated: ['vwap'],
    emptyWindows: true,
    opensAtPreviousClose: false,
    note: "OHLC, volume, count and VWAP, the VWAP truncated to the pair's price decimals",
  },
});

export function venueConvention(exchange: string): VenueConvention | undefined {
  return VENUE_CONVENTIONS[exchange];
}
