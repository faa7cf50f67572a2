/**
 * A venue's own candle for one market, interval and open time, as its REST API or WebSocket
 * kline channel publishes it. Decimals are the venue's strings (validated plain decimals, any
 * trailing zeros); a field the venue does not publish is absent, never guessed.
 */
export interface VenueKline {
  /** Unix epoch ms of the window's start. */
  readonly openTime: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  /** Base asset volume. */
  readonly volume?: string;
  readonly quoteVolume?: string;
  readonly trades?: number;
  readonly takerBuyVolume?: string;
  readonly takerBuyQuoteVolume?: string;
  /** Volume-weighted average price, where the venue publishes one (Kraken). */
  readonly vwap?: string;
}

/** The candle fields a venue kline can be compared on. */
export const KLINE_FIELDS = [
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quoteVolume',
  'trades',
  'takerBuyVolume',
  'takerBuyQuoteVolume',
  'vwap',
] as const;
export type KlineField = (typeof KLINE_FIELDS)[number];

const PLAIN_DECIMAL = /^\d+(\.\d+)?$/;

/** Whether `s` is an unsigned plain decimal (`0.10`, `9682`), the only text the comparison accepts. */
export function isPlainDecimal(s: unknown): s is string {
  return typeof s === 'string' && PLAIN_DECIMAL.test(s);
}
