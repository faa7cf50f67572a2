import type { Headers, OutgoingRecord } from '../log/log.js';
import { SCHEMA_HEADER } from '../log/record.js';
import { InputError } from '../runtime/errors.js';

/** Why an input did not become a trade (or, `bad-kline`, a kline push). Metrics label by it; docs/INGEST.md lists what each means. */
export const REJECT_REASONS = [
  'malformed-frame',
  'malformed-line',
  'unknown-message',
  'bad-price',
  'bad-size',
  'bad-time',
  'future-time',
  'bad-trade-id',
  'bad-side',
  'unknown-symbol',
  'venue-error',
  'bad-kline',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** An input that could not become a trade, as kept on the rejected-trades topic (`reject.v1`). */
export interface Reject {
  readonly venue: string;
  readonly reason: RejectReason;
  /** Constant description of the failed check. */
  readonly message: string;
  readonly symbol?: string;
  readonly receiveTime: number;
  /** The frame or file line as received, cut at RAW_LIMIT code units. */
  readonly raw: string;
  readonly rawTruncated: boolean;
}

/** Outcome of trying to fetch skipped trades over the venue's REST API. */
export type BackfillOutcome = 'complete' | 'partial' | 'failed' | 'disabled';

/**
 * A jump in a venue's trade ids, or a reset of them (`gap.v1`). `kind` absent means `gap`
 * (events written before resets were detected have none).
 */
export interface GapEvent {
  readonly venue: string;
  readonly symbol: string;
  readonly market: string;
  /** `reset`: the venue restarted its numbering; fromId is the last id before, toId the first after, nothing missing. */
  readonly kind?: 'gap' | 'reset';
  /** First and last skipped trade id, inclusive (a reset: see `kind`). */
  readonly fromId: string;
  readonly toId: string;
  readonly missing: number;
  readonly backfilled: number;
  readonly unrecovered: number;
  /** Inclusive id ranges still missing after backfill (at most 100 listed). */
  readonly unrecoveredRanges: ReadonlyArray<readonly [string, string]>;
  /** Receive time of the trade that revealed the gap. */
  readonly detectedAt: number;
  readonly backfill: BackfillOutcome;
  /**
   * Only on a reconnect window of a venue whose ids tell no gap (VenueAdapter.recent): the event
   * times from the last trade before the lost connection to the first after it. Then fromId and
   * toId are the first and last trade found in it ('' when none), and `partial` means the venue's
   * recent trades did not reach back to the window's start: an unknown number may be missing.
   */
  readonly window?: { readonly fromTime: number; readonly toTime: number };
}

export const RAW_LIMIT = 4096;
export const REJECT_SCHEMA_V1 = 'reject.v1';
export const GAP_SCHEMA_V1 = 'gap.v1';
const REJECT_HEADERS: Headers = Object.freeze({ [SCHEMA_HEADER]: REJECT_SCHEMA_V1 });
const GAP_HEADERS: Headers = Object.freeze({ [SCHEMA_HEADER]: GAP_SCHEMA_V1 });

export function makeReject(
  venue: string,
  reason: RejectReason,
  message: string,
  raw: string,
  receiveTime: number,
  symbol?: string,
): Reject {
  const rawTruncated = raw.length > RAW_LIMIT;
  const r = { venue, reason, message, receiveTime, raw: rawTruncated ? raw.slice(0, RAW_LIMIT) : raw, rawTruncated };
  return symbol === undefined ? r : { ...r, symbol };
}

export function rejectRecord(r: Reject): OutgoingRecord {
  return { key: r.venue, value: Buffer.from(JSON.stringify(r)), headers: REJECT_HEADERS };
}

export function gapRecord(g: GapEvent): OutgoingRecord {
  return { key: `${g.venue}:${g.symbol}`, value: Buffer.from(JSON.stringify(g)), headers: GAP_HEADERS };
}

function decodeJson(value: Uint8Array, headers: Headers | undefined, schema: string): unknown {
  const got = headers?.[SCHEMA_HEADER];
  if (got !== undefined && got !== schema) throw new InputError('unsupported-schema', `record is not ${schema}`);
  try {
    return JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  } catch (err) {
    throw new InputError('malformed-record', `record is not JSON ${schema}`, { cause: err });
  }
}

export function decodeReject(value: Uint8Array, headers?: Headers): Reject {
  return decodeJson(value, headers, REJECT_SCHEMA_V1) as Reject;
}

export function decodeGap(value: Uint8Array, headers?: Headers): GapEvent {
  return decodeJson(value, headers, GAP_SCHEMA_V1) as GapEvent;
}
