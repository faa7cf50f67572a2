import type { CandleVerdict, FieldDifference, VerifyStatus } from './compare.js';

/** The judgements a candle can have (compareCandle's statuses). */
export const VERIFY_STATUSES = ['verified', 'mismatch', 'unverifiable'] as const satisfies readonly VerifyStatus[];

/** What a stored candle's current revision can be, as the API filters by it: judged, or `pending`. */
export const VERIFICATION_STATES = [...VERIFY_STATUSES, 'pending'] as const;

/**
 * A closed candle's check against the venue's own candle, as the candle's row
 * (`candles.verification*`, migration 8), the API (`verification` on each candle) and the stream
 * (verificationSubject) carry it. It judges one revision: a revision of the candle clears it
 * until the reconciler judges the new revision.
 */
export interface CandleVerification {
  readonly status: VerifyStatus;
  /** The candle revision this judgement is of. */
  readonly revision: number;
  /** `mismatch` only: each field that differs, with both values. */
  readonly differences?: readonly FieldDifference[];
  /** Fields the venue builds by another rule (docs/CANDLES.md): shown, never a mismatch. */
  readonly conventionDifferences?: readonly FieldDifference[];
  /** `mismatch` only: `gap` when a recorded gap overlaps the window. */
  readonly likelyCause?: 'gap';
  /** `unverifiable` only: why (no kline for the interval, none arrived in time). */
  readonly reason?: string;
  /** When the judgement was made, Unix epoch ms. */
  readonly checkedAt: number;
}

/** A verification event on the stream: the candle's key and its judgement. */
export interface VerificationEvent extends CandleVerification {
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: string;
  readonly openTime: number;
}

export function verificationOf(verdict: CandleVerdict, revision: number, checkedAt: number): CandleVerification {
  switch (verdict.status) {
    case 'verified':
      return { status: 'verified', revision, conventionDifferences: verdict.conventionDifferences, checkedAt };
    case 'mismatch':
      return {
        status: 'mismatch',
        revision,
        differences: verdict.differences,
        conventionDifferences: verdict.conventionDifferences,
        ...(verdict.likelyCause === undefined ? {} : { likelyCause: verdict.likelyCause }),
        checkedAt,
      };
    case 'unverifiable':
      return { status: 'unverifiable', revision, reason: verdict.reason, checkedAt };
  }
}

/** The stream's event of a judged candle: its key and its judgement. */
export function verificationEventOf(c: {
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: string;
  readonly openTime: number;
  readonly verification: CandleVerification;
}): VerificationEvent {
  return { exchange: c.exchange, symbol: c.symbol, interval: c.interval, openTime: c.openTime, ...c.verification };
}
