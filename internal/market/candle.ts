import type { Interval } from './interval.js';

/**
 * A candle as an exchange kline publishes it, plus VWAP, the trade id range, a revision and a
 * closed flag. Identified by (exchange, symbol, interval, openTime). Decimal fields are exact
 * decimal strings (computed with scaled integers, never floats).
 *
 * Consumers of at-least-once outputs (NATS, Redis) keep the highest (revision, lastTradeId)
 * per key and drop anything not newer.
 */
export interface Candle {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
  readonly interval: Interval;
  /** Unix epoch ms, inclusive. */
  readonly openTime: number;
  /** Unix epoch ms, inclusive, as klines print it: openTime + interval - 1. */
  readonly closeTime: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  /** Base asset volume. */
  readonly volume: string;
  readonly quoteVolume: string;
  readonly trades: number;
  readonly takerBuyVolume: string;
  readonly takerBuyQuoteVolume: string;
  /** quoteVolume / volume; equals close on an empty candle. */
  readonly vwap: string;
  /** Empty string on an empty candle (no trade in the interval). */
  readonly firstTradeId: string;
  readonly lastTradeId: string;
  /** 0 when first closed; +1 on each revision by a late trade within the allowed lateness. */
  readonly revision: number;
  /** false on partial updates of the open window. */
  readonly closed: boolean;
}

export function candleKey(c: Pick<Candle, 'exchange' | 'symbol' | 'interval' | 'openTime'>): string {
  return `${c.exchange}:${c.symbol}:${c.interval}:${c.openTime}`;
}
