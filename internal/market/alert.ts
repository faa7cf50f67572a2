import type { Interval } from './interval.js';

/** What a detector saw. */
export const ALERT_KINDS = [
  'price_spike',
  'volume_spike',
  'whale_trade',
  'stale_market',
  'divergence',
  'news_spike',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * An alert from a market's detectors, with the evidence that made it fire. Alerts are
 * at-least-once outputs: `id` is a function of the market, the kind and the event that fired
 * it, so replaying the same trades re-creates the same ids and consumers drop repeats.
 */
export interface Alert {
  readonly id: string;
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
  readonly kind: AlertKind;
  readonly severity: AlertSeverity;
  /** Event time the alert is about, Unix epoch ms (a trade's time, a candle's close time, a watermark). */
  readonly time: number;
  /** The candle interval the detector watched; absent for per-trade detectors. */
  readonly interval?: Interval;
  /** One line for people; the numbers are in `evidence`. */
  readonly message: string;
  /** Inputs and statistics behind the alert; decimals as exact strings, statistics as numbers. */
  readonly evidence: Readonly<Record<string, string | number>>;
}
