import type { OutgoingRecord } from '../../log/log.js';
import type { ContextKind, ContextReject } from './records.js';

/**
 * The contract of one context connector (CoinGecko, Fear & Greed, one RSS feed): what to fetch
 * at each poll and how to read it. The runner (context-ingestor.ts) owns the schedule, the
 * request budget and backoff, the deduplication, the topics and the metrics; a source is only
 * protocol, like a venue adapter (venue.ts).
 */
export interface ContextSource {
  /** Unique per process; the `source` of its records, the label of its metrics. */
  readonly name: string;
  readonly kind: ContextKind;
  /** Time between the starts of two polls. */
  readonly intervalMs: number;
  /** No new record for this long makes the source stale (metric, warning). */
  readonly staleAfterMs: number;
  /** Most HTTP requests a minute, retries included (the source's rate limit, with room to spare). */
  readonly requestsPerMinute: number;
  /** Fetches once through `ctx.http` and reads what came back. Throws only what `http` threw. */
  poll(ctx: PollContext): Promise<PollResult>;
}

export interface PollContext {
  readonly http: SourceHttp;
  /** Wall clock (ms): the receive time of what this poll reads. */
  readonly now: number;
  /** Nothing of this source was seen yet (in this process or in its topic): a first start. */
  readonly firstStart: boolean;
  readonly signal: AbortSignal;
}

/** GET through the source's request budget, retrying 429 (after Retry-After), 5xx and network errors. */
export interface SourceHttp {
  get(url: string, accept: string, headers?: Record<string, string>): Promise<string>;
}

/** One record to append unless its dedupe key was seen (the same headline, the same daily value). */
export interface ContextItem {
  readonly dedupeKey: string;
  readonly record: OutgoingRecord;
}

export interface PollResult {
  readonly items: readonly ContextItem[];
  readonly rejects: readonly ContextReject[];
  /** Items of the source's own that were valid but not for tickmesh (a coin with no tickmesh asset). */
  readonly unmapped?: number;
}
