import type { Candle } from '../market/candle.js';
import type { ReferenceRecord } from '../market/context.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import type { Interval } from '../market/interval.js';

/**
 * The Cache contract: the latest candle per market and interval and the latest price per market
 * (Redis in production, memory in embedded mode). Writes are at-least-once and may arrive out
 * of order, so every write is conditional: it lands only when newer than what is stored, and
 * the check and the write are one atomic step.
 *
 * "Newer" for a candle compares (openTime, revision, closed, trades) in that order: a later
 * window, a revision of it, its close, more trades in the open window. For a price it compares
 * (time, tradeId), trade ids as non-negative integers when both are digits, else as strings.
 * Indicators of a (market, interval) are newer by their candle's open time alone (computed once
 * per candle). An equal one is not newer, so replays write nothing.
 */
export interface LatestPrice {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
  /** Decimal string, as traded. */
  readonly price: string;
  /** Exchange event time of the trade, Unix epoch ms. */
  readonly time: number;
  readonly tradeId: string;
}

export interface Cache {
  /** For each candle, whether it was stored (true) or an equal or newer one was already there. */
  putCandles(candles: readonly Candle[]): Promise<boolean[]>;
  latestCandle(exchange: string, symbol: string, interval: Interval): Promise<Candle | null>;
  /** The latest closed candle's indicators per (market, interval); one flag per entry as putCandles. */
  putIndicators(values: readonly IndicatorValues[]): Promise<boolean[]>;
  latestIndicators(exchange: string, symbol: string, interval: Interval): Promise<IndicatorValues | null>;
  putPrices(prices: readonly LatestPrice[]): Promise<boolean[]>;
  latestPrice(exchange: string, symbol: string): Promise<LatestPrice | null>;
  /** The latest reference snapshot per asset, newer by the source's time alone; one flag per record. */
  putReferences(records: readonly ReferenceRecord[]): Promise<boolean[]>;
  /** Every asset's latest reference snapshot, by asset. */
  latestReferences(): Promise<ReferenceRecord[]>;
  close(): Promise<void>;
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const DIGITS = /^\d+$/;

/** Orders trade ids: numerically when both are digit strings (no leading zeros), else as strings. */
export function compareTradeIds(a: string, b: string): number {
  if (a === b) return 0;
  if (DIGITS.test(a) && DIGITS.test(b) && a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : 1;
}

export function candleIsNewer(next: Candle, current: Candle): boolean {
  return (
    (cmp(next.openTime, current.openTime) ||
      cmp(next.revision, current.revision) ||
      cmp(Number(next.closed), Number(current.closed)) ||
      cmp(next.trades, current.trades)) > 0
  );
}

export function priceIsNewer(next: LatestPrice, current: LatestPrice): boolean {
  return (cmp(next.time, current.time) || compareTradeIds(next.tradeId, current.tradeId)) > 0;
}
