import type { Alert } from '../market/alert.js';
import type { NewsRecord, ReferenceRecord, SentimentRecord } from '../market/context.js';

/**
 * The Store's part for the context of the markets (docs/SOURCES.md): reference snapshots,
 * sentiment values and headlines read from the context topics, and the alerts the context actors
 * join from them.
 *
 * Exactly once: a context commit writes the records read from one partition of a context topic
 * and that partition's next offset in ONE transaction. Rows are keyed by what makes a record the
 * same (reference: asset, time, source; sentiment: index, time, source; headline: source, guid)
 * and a key already stored is kept, so reading a record again after a crash, or by a second
 * reader, adds nothing; and an offset is never stored without its rows, so nothing is lost.
 */
export interface ContextCommit {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the first record of the partition not reflected in the committed rows. */
  readonly nextOffset: bigint;
  readonly references: readonly ReferenceRecord[];
  readonly sentiment: readonly SentimentRecord[];
  readonly news: readonly NewsRecord[];
}

/** The records of a commit that were not stored before (the others were repeats). */
export interface ContextCommitted {
  readonly references: readonly ReferenceRecord[];
  readonly sentiment: readonly SentimentRecord[];
  readonly news: readonly NewsRecord[];
}

/** A page of a context table, by the record's time: inclusive from, exclusive to (ms). */
export interface ContextRange {
  readonly from?: number;
  readonly to?: number;
  /**
   * Most rows, newest first when only a limit is given. Default 1,000. A page of a range that is
   * full also holds the other rows of its last time (rows may share a time).
   */
  readonly limit?: number;
}

export interface ContextStore {
  /** Writes the records and the partition's next offset atomically; returns what was new. */
  commitContext(commit: ContextCommit): Promise<ContextCommitted>;
  /** The committed next offset of a context topic's partition, or null when none was committed. */
  contextOffset(topic: string, partition: number): Promise<bigint | null>;
  /** Stores alerts made outside a partition's commit; returns those not stored before (by id). */
  putAlerts(alerts: readonly Alert[]): Promise<Alert[]>;
  /** The newest reference snapshot of every asset, by asset. */
  latestReferences(): Promise<ReferenceRecord[]>;
  /** Reference snapshots of one asset in time order (then source). */
  references(q: ContextRange & { readonly asset: string }): Promise<ReferenceRecord[]>;
  /** Values of one sentiment index in time order. */
  sentiment(q: ContextRange & { readonly index: string }): Promise<SentimentRecord[]>;
  /** Headlines (naming `asset`, when given) in time order: published time, else receive time. */
  news(q: ContextRange & { readonly asset?: string }): Promise<NewsRecord[]>;
}
