/**
 * Candle intervals as the exchanges publish them (Binance's set). Every interval but 1M has a
 * fixed length and opens on multiples of it from an origin: the Unix epoch for those up to 1d
 * (each divides the UTC day), Friday 1970-01-02 for 3d, Monday 1970-01-05 for 1w (exchange
 * weeks open on Mondays, and the epoch was a Thursday). Binance's recorded 3d klines open on
 * days whose number since the epoch is 1 modulo 3 (2017-08-17, 2020-03-01, 2021-01-01), not on
 * multiples of three days: docs/CANDLES.md names the recordings, interval-binance.test.ts
 * replays them. 1M is the calendar month in UTC: it opens on the first day of the month at
 * 00:00 and closes the instant before the next month opens, so it lasts 28 to 31 days.
 *
 * Window arithmetic goes through windowStart / windowEnd / windowsBetween, which are right for
 * every interval; intervalMs is the length of a fixed interval only, and throws for 1M.
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
  '3d',
  '1w',
  '1M',
] as const;
export type Interval = (typeof INTERVALS)[number];

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DAY_MS = 86_400_000;
/** Friday 1970-01-02T00:00:00Z: the origin Binance's 3d klines align to. */
const THREE_DAY_ORIGIN_MS = DAY_MS;
/** Monday 1970-01-05T00:00:00Z: the origin exchange weeks align to. */
const WEEK_ORIGIN_MS = 4 * DAY_MS;
/** The mean Gregorian month (365.2425 / 12 days), for what needs a typical length (sorting, annualizing). */
const MEAN_MONTH_MS = 2_629_746_000;

export function isInterval(s: string): s is Interval {
  return (INTERVALS as readonly string[]).includes(s);
}

/** Whether every window of the interval has the same length (all but 1M). */
export function isFixedLength(interval: Interval): boolean {
  return interval !== '1M';
}

/** The length of a fixed-length interval's windows; throws for 1M, whose months differ. */
export function intervalMs(interval: Interval): number {
  if (!isFixedLength(interval)) throw new RangeError(`${interval} windows have no fixed length`);
  const unit = interval.slice(-1);
  const n = Number(interval.slice(0, -1));
  const ms = UNIT_MS[unit];
  if (ms === undefined) throw new Error(`unknown interval unit in ${interval}`);
  return n * ms;
}

/** A typical window length: the length, or the mean month for 1M. For ordering and scaling, never for windows. */
export function nominalMs(interval: Interval): number {
  return isFixedLength(interval) ? intervalMs(interval) : MEAN_MONTH_MS;
}

/** Open time of the window of `interval` that contains `timeMs`. */
export function windowStart(interval: Interval, timeMs: number): number {
  if (interval === '1M') {
    const d = new Date(timeMs);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  const len = intervalMs(interval);
  const origin = interval === '1w' ? WEEK_ORIGIN_MS : interval === '3d' ? THREE_DAY_ORIGIN_MS : 0;
  return Math.floor((timeMs - origin) / len) * len + origin;
}

/** Open time of the window after the one that opens at `start` (a window start): its end, exclusive. */
export function windowEnd(interval: Interval, start: number): number {
  if (interval === '1M') {
    const d = new Date(start);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return start + intervalMs(interval);
}

/** Open time of the window `n` windows after (or, negative, before) the one that opens at `start`. */
export function windowAfter(interval: Interval, start: number, n: number): number {
  if (interval === '1M') {
    const d = new Date(start);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1);
  }
  return start + n * intervalMs(interval);
}

/** How many windows open in [from, to), both window starts (0 when to <= from). */
export function windowsBetween(interval: Interval, from: number, to: number): number {
  if (!(to > from)) return 0;
  if (interval === '1M') {
    const a = new Date(from);
    const b = new Date(windowStart('1M', to - 1));
    return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth() + 1;
  }
  return Math.ceil((to - from) / intervalMs(interval));
}

/**
 * Whether each window of `coarse` is a union of whole windows of `fine`, so that fine windows
 * fold into coarse ones: a fixed fine interval that divides the coarse one's length from an
 * origin both share, or one that divides the day for 1M (months open at midnight).
 */
export function nests(fine: Interval, coarse: Interval): boolean {
  if (!isFixedLength(fine)) return false;
  const f = intervalMs(fine);
  if (!isFixedLength(coarse)) return DAY_MS % f === 0;
  const origin = windowStart(coarse, 0);
  return intervalMs(coarse) % f === 0 && windowStart(fine, origin) === origin;
}
