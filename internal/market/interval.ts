/**
 * Candle intervals as the exchanges publish them. Every interval up to 1d divides the UTC day,
 * so its windows align on multiples of its length from the Unix epoch. 1w is the exception:
 * exchange weeks open on Monday 00:00 UTC, and the Unix epoch was a Thursday.
 */
export const INTERVALS = [
  '1s',
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '1w',
] as const;
export type Interval = (typeof INTERVALS)[number];

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** Monday 1970-01-05T00:00:00Z: the origin exchange weeks align to. */
const WEEK_ORIGIN_MS = 4 * 86_400_000;

export function isInterval(s: string): s is Interval {
  return (INTERVALS as readonly string[]).includes(s);
}

export function intervalMs(interval: Interval): number {
  const unit = interval.slice(-1);
  const n = Number(interval.slice(0, -1));
  const ms = UNIT_MS[unit];
  if (ms === undefined) throw new Error(`unknown interval unit in ${interval}`);
  return n * ms;
}

/** Open time of the window of `interval` that contains `timeMs`. */
export function windowStart(interval: Interval, timeMs: number): number {
  const len = intervalMs(interval);
  const origin = interval === '1w' ? WEEK_ORIGIN_MS : 0;
  return Math.floor((timeMs - origin) / len) * len + origin;
}
