import type { Candle } from '../market/candle.js';
import type { Interval } from '../market/interval.js';
import type { VerifyStatus } from '../verify/compare.js';
import type { CandleVerification, VerificationEvent } from '../verify/verification.js';

/**
 * The Store's part for the live reconciler (internal/worker/reconciler-host.ts): the judgements
 * of closed candles against the venue's own candles, written into the candle rows
 * (`candles.verification*`, migration 8), and the klines topic's per-partition checkpoint.
 *
 * Exactly once: a verification commit writes the judgements made from one partition of the
 * klines topic and that partition's checkpoint (next offset, the reconciler's pending kline
 * pushes) in ONE transaction, fenced by the placement epoch like the trades' checkpoints (a
 * commit from a lower epoch writes nothing). A judgement lands only on the revision it judged:
 * a row revised since keeps its cleared verification until its own judgement. An `unverifiable`
 * (no kline in time) never replaces a judgement the venue's kline made for the same revision, so
 * a replay after a restart, which may lack a kline consumed before the checkpoint, cannot undo it.
 */
export interface VerificationCommit {
  readonly topic: string;
  readonly partition: number;
  readonly epoch: number;
  /** Offset of the first klines record not reflected in the judgements and `state`. */
  readonly nextOffset: bigint;
  /** The reconciler's state for a restart (reconciler-state.ts), opaque to the store. */
  readonly state: Uint8Array;
  readonly verifications: readonly VerificationEvent[];
}

/** A stored candle: the closed candle and, once judged, its verification (of this revision). */
export interface StoredCandle extends Candle {
  readonly verification?: CandleVerification;
}

/** A stored candle just judged: its row as the judgement left it. */
export interface JudgedCandle extends Candle {
  readonly verification: CandleVerification;
}

export interface UnverifiedQuery {
  /** Candles opened at most this long before the newest candle of their market and interval, ms. */
  readonly horizonMs: number;
  readonly intervals: readonly Interval[];
  /** Only these markets. */
  readonly markets: readonly { readonly exchange: string; readonly symbol: string }[];
  /** Most rows, the newest; returned oldest first. */
  readonly limit: number;
}

export interface VerificationStore {
  /**
   * Writes the judgements and the klines partition's checkpoint atomically (FencedError when a
   * higher epoch holds it); returns the candles whose row a judgement changed, each with the
   * judgement it now holds (the rest were repeats, or of a revision no longer stored): what the
   * live stream re-publishes.
   */
  commitVerifications(commit: VerificationCommit): Promise<JudgedCandle[]>;
  /** Closed candles of `q.intervals`, within `q.horizonMs` of their series' newest, whose current revision has no judgement yet, or only `unverifiable`. */
  unverifiedCandles(q: UnverifiedQuery): Promise<Candle[]>;
  /**
   * The reading side (the API): stored candles counted by market, interval and status, ordered by
   * exchange, symbol, interval, status. A judgement counts only while it is of the row's current
   * revision; a candle without one is `pending`.
   */
  verificationCounts(query: VerificationQuery): Promise<VerificationCount[]>;
  /** Candles whose current revision is judged `mismatch`, in (openTime, exchange, symbol, interval) order. */
  mismatches(query: MismatchQuery): Promise<StoredCandle[]>;
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
