import { compareDecimal } from '../actor/decimal.js';
import type { Candle } from '../market/candle.js';
import type { VenueConvention } from './conventions.js';
import { isPlainDecimal, type KlineField, type VenueKline } from './kline.js';

/** One field on which tickmesh's candle and the venue's kline differ. */
export interface FieldDifference {
  readonly field: KlineField;
  readonly ours: string;
  readonly theirs: string;
}

/** An event-time window in which trades may have been lost (a recorded gap), Unix epoch ms inclusive. */
export interface GapWindow {
  readonly fromTime: number;
  readonly toTime: number;
}

/**
 * The verdict on one closed candle:
 * - `verified`: equal on every field the venue publishes and follows tickmesh's rule for;
 * - `mismatch`: `differences` lists each field that is not, with both values; `likelyCause` is
 *   `gap` when a recorded gap overlaps the window (trades lost on the way in, not a wrong sum);
 * - `unverifiable`: the venue has no kline for it (or publishes none for empty windows).
 * `conventionDifferences` (any status) are fields the venue builds by another rule
 * (VenueConvention.conventionFields): shown, never a mismatch.
 */
export type CandleVerdict =
  | {
      readonly status: 'verified';
      readonly openTime: number;
      readonly conventionDifferences: readonly FieldDifference[];
    }
  | {
      readonly status: 'mismatch';
      readonly openTime: number;
      readonly differences: readonly FieldDifference[];
      readonly conventionDifferences: readonly FieldDifference[];
      readonly likelyCause?: 'gap';
    }
  | { readonly status: 'unverifiable'; readonly openTime: number; readonly reason: string };

export type VerifyStatus = CandleVerdict['status'];

function oursOf(c: Candle, field: KlineField): string {
  return field === 'trades' ? String(c.trades) : c[field];
}

function theirsOf(k: VenueKline, field: KlineField): string | undefined {
  const v = k[field];
  return v === undefined ? undefined : String(v);
}

/** `s` cut (not rounded) to `decimals` fractional digits. */
function truncate(s: string, decimals: number): string {
  const dot = s.indexOf('.');
  if (dot < 0) return s;
  return decimals === 0 ? s.slice(0, dot) : s.slice(0, Math.min(s.length, dot + 1 + decimals));
}

function fractionDigits(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/**
 * Whether two values of `field` are equal: numerically for decimals (`0.10` equals `0.1`; scaled
 * integers, never floats), as integers for the trade count. A value the venue prints that is not
 * a plain decimal is never equal.
 */
function equal(field: KlineField, ours: string, theirs: string, truncated: boolean): boolean {
  if (field === 'trades') return /^\d+$/.test(theirs) && BigInt(ours) === BigInt(theirs);
  if (!isPlainDecimal(theirs) || !isPlainDecimal(ours)) return false;
  return compareDecimal(truncated ? truncate(ours, fractionDigits(theirs)) : ours, theirs) === 0;
}

function overlapsGap(c: Candle, gaps: readonly GapWindow[]): boolean {
  return gaps.some((g) => g.fromTime <= c.closeTime && g.toTime >= c.openTime);
}

/** The larger (`sign` 1) or smaller (-1) of two plain decimals, as written. */
function extreme(a: string, b: string, sign: 1 | -1): string {
  return compareDecimal(a, b) * sign >= 0 ? a : b;
}

/**
 * `candle` as a venue that opens each window at the previous window's close builds it (Bybit):
 * open = `previousClose`, high and low widened to include it; close and the sums unchanged.
 * An empty window is flat at the previous close either way.
 */
export function asOpenedAtPreviousClose(candle: Candle, previousClose: string): Candle {
  return {
    ...candle,
    open: previousClose,
    high: extreme(candle.high, previousClose, 1),
    low: extreme(candle.low, previousClose, -1),
  };
}

const OPEN_FIELDS: readonly KlineField[] = ['open', 'high', 'low'];

/**
 * Compares one closed candle with the venue's kline for the same market, interval and open time
 * (undefined when the venue has none). `previous`: tickmesh's candle of the window just before,
 * for a venue that opens at the previous close (VenueConvention.opensAtPreviousClose); without
 * it (or when it is not the adjacent window) open, high and low are only reported for such a
 * venue. Pure: the live reconciler and `tickmesh verify` share it.
 */
export function compareCandle(
  candle: Candle,
  theirs: VenueKline | undefined,
  convention: VenueConvention,
  gaps: readonly GapWindow[] = [],
  previous?: Candle,
): CandleVerdict {
  const openTime = candle.openTime;
  const chained = convention.opensAtPreviousClose && previous !== undefined && previous.closeTime + 1 === openTime;
  const ours = chained ? asOpenedAtPreviousClose(candle, previous.close) : candle;
  const unjudged = convention.opensAtPreviousClose && !chained ? OPEN_FIELDS : [];
  if (theirs === undefined) {
    const reason =
      ours.trades === 0 && !convention.emptyWindows
        ? 'the venue publishes no kline for a window without trades'
        : 'the venue has no kline for this window';
    return { status: 'unverifiable', openTime, reason };
  }
  if (theirs.openTime !== openTime) throw new RangeError(`kline ${theirs.openTime} is not candle ${openTime}`);
  const differences: FieldDifference[] = [];
  const conventionDifferences: FieldDifference[] = [];
  const check = (field: KlineField, into: FieldDifference[]): void => {
    const t = theirsOf(theirs, field);
    if (t === undefined) return;
    const o = oursOf(ours, field);
    if (!equal(field, o, t, convention.truncated.includes(field))) into.push({ field, ours: o, theirs: t });
  };
  for (const f of convention.fields) check(f, unjudged.includes(f) ? conventionDifferences : differences);
  for (const f of convention.conventionFields) check(f, conventionDifferences);
  if (differences.length === 0) return { status: 'verified', openTime, conventionDifferences };
  return {
    status: 'mismatch',
    openTime,
    differences,
    conventionDifferences,
    ...(overlapsGap(candle, gaps) ? { likelyCause: 'gap' as const } : {}),
  };
}

/** Counts by status, and the verdicts that are not plainly verified. */
export interface VerifyTally {
  readonly counts: Record<VerifyStatus, number>;
  /** Candles verified only up to convention differences. */
  conventionDifferent: number;
  /** Mismatches and unverifiable candles, in the order compared. */
  readonly notVerified: CandleVerdict[];
}

export function createTally(): VerifyTally {
  return { counts: { verified: 0, mismatch: 0, unverifiable: 0 }, conventionDifferent: 0, notVerified: [] };
}

/**
 * Compares candles with the venue's klines of the same market and interval (klines outside the
 * candles' open times are ignored) and adds the verdicts to `tally`. Each candle's previous one
 * is the candle before it in open-time order, the first one's `before` (the stored candle just
 * before the range, if any). Returns the last candle compared (the next page's `before`).
 */
export function compareCandles(
  candles: readonly Candle[],
  klines: ReadonlyMap<number, VenueKline>,
  convention: VenueConvention,
  tally: VerifyTally,
  gaps: readonly GapWindow[] = [],
  before?: Candle,
): Candle | undefined {
  let previous = before;
  for (const c of [...candles].sort((a, b) => a.openTime - b.openTime)) {
    const v = compareCandle(c, klines.get(c.openTime), convention, gaps, previous);
    tally.counts[v.status]++;
    if (v.status !== 'unverifiable' && v.conventionDifferences.length > 0) tally.conventionDifferent++;
    if (v.status !== 'verified') tally.notVerified.push(v);
    previous = c;
  }
  return previous;
}
