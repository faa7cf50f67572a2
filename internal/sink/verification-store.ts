import type { Candle } from '../market/candle.js';
import type { Interval } from '../market/interval.js';
import type { VerifyStatus } from '../verify/compare.js';
import type { CandleVerification } from '../verify/verification.js';

/**
 * The reading side of candle verification (migration 8): how many stored candles each verdict
 * has, and the candles judged `mismatch`. A judgement counts only while it is of the row's
 * current revision; a candle without one is `pending`.
 */
export interface VerificationStore {
  /** Candle counts by market, interval and status, ordered by exchange, symbol, interval, status. */
  verificationCounts(query: VerificationQuery): Promise<VerificationCount[]>;
  /** Candles whose current revision is judged `mismatch`, in (openTime, exchange, symbol, interval) order. */
  mismatches(query: MismatchQuery): Promise<StoredCandle[]>;
}

/** A stored candle with its judgement of the current revision; absent (or null) until the reconciler made one. */
export interface StoredCandle extends Candle {
  readonly verification?: CandleVerification | null;
}

export type VerificationState = VerifyStatus | 'pending';

export interface VerificationQuery {
  readonly exchange?: string;
  readonly symbol?: string;
  readonly interval?: Interval;
  /** Open time range, Unix epoch ms, inclusive from, exclusive to. */
  readonly from?: number;
  readonly to?: number;
}

export interface VerificationCount {
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: Interval;
  readonly status: VerificationState;
  readonly count: number;
}

export interface MismatchQuery extends VerificationQuery {
  readonly limit: number;
  /** The newest `limit` mismatches of the range instead of the oldest (still returned oldest first). */
  readonly newest?: boolean;
  /** Only mismatches after this one: where the previous page ended. */
  readonly after?: MismatchCursor;
}

/** A place in the mismatches' (openTime, exchange, symbol, interval) order. */
export interface MismatchCursor {
  readonly openTime: number;
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: Interval;
}
