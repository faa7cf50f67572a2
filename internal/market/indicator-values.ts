import type { Interval } from './interval.js';

/** Indicators of one market and interval, computed when a candle first closes (revision 0). */
export interface IndicatorValues {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
  readonly interval: Interval;
  /** Open time of the candle whose close produced these values. */
  readonly openTime: number;
  /** Volume-weighted average price over the last `vwapPeriod` candles; null before any volume. */
  readonly vwap: number | null;
  /** Simple moving averages of closes, keyed by period; null until that many candles closed. */
  readonly sma: Readonly<Record<string, number | null>>;
  /** Exponential moving averages of closes (seeded with the SMA), keyed by period. */
  readonly ema: Readonly<Record<string, number | null>>;
  /** Annualized standard deviation of log returns over `volatilityPeriod` returns; null until then. */
  readonly volatility: number | null;
  /** (taker buy volume - taker sell volume) / volume of the candle, in [-1, 1]; null on no volume. */
  readonly imbalance: number | null;
}
