import type { TrendPrediction } from '../actor/output.js';
import type { Alert, AlertKind } from '../market/alert.js';
import type { Candle } from '../market/candle.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import type { Interval } from '../market/interval.js';
import type { ContextStore } from './context-store.js';
import type { StoredCandle, VerificationState, VerificationStore } from './verification-store.js';

/**
 * The Store contract: candles, alerts and per-partition checkpoints in one relational database
 * (PostgreSQL in production, PGlite in embedded mode; the same SQL, internal/sink/sql.ts).
 * Only adapters in this folder import a database client.
 *
 * Exactly once: a worker commits, per partition and in ONE transaction, the candles closed or
 * revised since its last checkpoint, its alerts, indicators and trend predictions, and the
 * checkpoint (epoch, next offset, actor state). Candle rows are keyed (exchange, symbol, interval,
 * open_time) and only replaced by a revision at least as high, alerts are keyed by their
 * deterministic id, indicator rows are keyed like their candle (the actor recomputes them
 * deterministically with its revisions, the last written wins), predictions by the candle that made them, so replaying from any checkpoint rewrites
 * identical rows.
 *
 * Fencing: the checkpoint row holds the highest placement epoch that claimed or committed the
 * partition. A commit or claim from a lower epoch is refused inside the transaction with
 * FencedError and writes nothing.
 *
 * Errors: a server that cannot be reached or drops the connection surfaces as UnavailableError
 * (retriable, with the driver's error as cause); constraint and programming errors are not
 * retriable.
 */
export interface Checkpoint {
  readonly topic: string;
  readonly partition: number;
  readonly epoch: number;
  /** Offset of the first record not yet reflected in `state` and the committed rows. */
  readonly nextOffset: bigint;
  /** The partition's actor state, opaque to the store. */
  readonly state: Uint8Array;
}

export interface CommitBatch extends Checkpoint {
  /** Closed or revised candles; several revisions of one candle may appear, the highest wins. */
  readonly candles: readonly Candle[];
  readonly alerts: readonly Alert[];
  /** Trend predictions with their running scores; a key already stored is kept. */
  readonly predictions?: readonly TrendPrediction[];
  /**
   * Indicators of the candles closed or recomputed since the last checkpoint (keyed like their
   * candle; several values of one key may appear, the last wins); written in the same
   * transaction as their candles.
   */
  readonly indicators?: readonly IndicatorValues[];
  /** Market actors that leave the partition state (evicted idle markets), kept until their next trade. */
  readonly parked?: readonly ParkedActor[];
  /** Keys of parked actors that came back into the partition state: their parked rows go. */
  readonly unparked?: readonly string[];
  /** The actors' snapshots that changed, when the partition keeps them per row (Store.actorStates). */
  readonly actorStates?: ActorStateChanges;
}

/**
 * Per-market actor rows written with a checkpoint: only the actors whose state changed since the
 * previous one. The partition's rows after the commit are its rows before (none with
 * `replaceAll`), minus `removed`, with `changed` written over them.
 */
export interface ActorStateChanges {
  readonly replaceAll: boolean;
  readonly changed: ReadonlyArray<{ readonly key: string; readonly state: Uint8Array }>;
  readonly removed: readonly string[];
}

/** An evicted market actor: its record key, its watermark when it left, its snapshot (opaque). */
export interface ParkedActor {
  readonly key: string;
  readonly watermark: number;
  readonly state: Uint8Array;
}

export interface CandleQuery {
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: Interval;
  /** Open time range, Unix epoch ms, inclusive from, exclusive to. */
  readonly from?: number;
  readonly to?: number;
  /** Most rows, newest first when only a limit is given. Default 1,000. */
  readonly limit?: number;
  /**
   * Candles only: those whose current revision has this judgement (`pending`: none yet, or only
   * one of an earlier revision). Predictions and indicators ignore it.
   */
  readonly verification?: VerificationState;
}

/** Predictions of one market and interval, by the open time of the candle that made them. */
export type PredictionQuery = CandleQuery;

export interface AlertQuery {
  readonly exchange?: string;
  readonly symbol?: string;
  readonly kind?: AlertKind;
  /** Event time range, Unix epoch ms, inclusive from, exclusive to. */
  readonly from?: number;
  readonly to?: number;
  readonly limit?: number;
  /** With a limit, the newest alerts of the range instead of the oldest (still returned in time order). */
  readonly newest?: boolean;
  /** Only alerts after this one in (time, id) order: where the previous page ended. */
  readonly after?: AlertCursor;
}

/** A place in the alerts' (time, id) order. */
export interface AlertCursor {
  readonly time: number;
  readonly id: string;
}

/**
 * What decides an index actor's alerts besides the live prices: the venues it has raised a
 * divergence for and not yet seen come back (internal/actor/index-actor.ts).
 */
export interface IndexState {
  readonly asset: string;
  /** Venue keys (`exchange:symbol`), sorted. */
  readonly diverging: readonly string[];
}

/** A market with stored candles. */
export interface StoredMarket {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
}

/**
 * How long each interval's candles are kept, and alerts (by event time), in ms; an interval not
 * listed, or alerts without `alerts`, are kept forever.
 */
export type RetentionPolicy = Readonly<Partial<Record<Interval, number>>> & { readonly alerts?: number };

export interface RetentionResult {
  /** Candle rows deleted, per interval. */
  readonly deleted: Readonly<Partial<Record<Interval, number>>>;
  /** Indicator rows deleted, per interval (the candles' retention). */
  readonly indicatorsDeleted: Readonly<Partial<Record<Interval, number>>>;
  /** Whole monthly partitions dropped (older than every interval's retention). */
  readonly droppedPartitions: readonly string[];
  /** Alert rows deleted. */
  readonly alertsDeleted: number;
  /** Prediction rows deleted (with their interval's candles), per interval. */
  readonly predictionsDeleted: Readonly<Partial<Record<Interval, number>>>;
}

/** A row the database refuses on its own, and why (the database's message). */
export interface RefusedRow<T> {
  readonly row: T;
  readonly reason: string;
}

export interface RefusedRows {
  readonly candles: readonly RefusedRow<Candle>[];
  readonly alerts: readonly RefusedRow<Alert>[];
}

/** The context tables and their commits: context-store.ts; the candles' verification: verification-store.ts. */
export interface Store extends ContextStore, VerificationStore {
  /** Applies the versioned migrations not yet applied. Safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** The last committed checkpoint of a partition, or null when none was committed. */
  loadCheckpoint(topic: string, partition: number): Promise<Checkpoint | null>;
  /**
   * Raises the partition's fence to `epoch` for a new owner (FencedError when a higher epoch
   * already holds it) and returns the last committed checkpoint to start from.
   */
  claim(topic: string, partition: number, epoch: number): Promise<Checkpoint | null>;
  /**
   * Writes candles, alerts and the checkpoint atomically; FencedError when a higher epoch holds
   * the partition; InputError (`store-refused`) when the database refuses a value of a row.
   */
  commit(batch: CommitBatch): Promise<void>;
  /**
   * Which of these rows the database refuses to store on their own (InputError from commit), with
   * its reason; writes nothing. Whether a row is refused depends on the row alone, so the caller
   * can set the refused rows aside and commit the rest, and a replay sets aside the same rows.
   */
  refused(rows: Pick<CommitBatch, 'candles' | 'alerts'>): Promise<RefusedRows>;
  /**
   * The partition's per-market actor rows as last committed (ActorStateChanges). Read after
   * claim(): once claimed, no older owner can change them.
   */
  actorStates(topic: string, partition: number): Promise<Map<string, Uint8Array>>;
  /** The parked actors of a partition (committed), by key: key and watermark, without their state. */
  parkedActors(topic: string, partition: number): Promise<Array<{ key: string; watermark: number }>>;
  /** One parked actor's snapshot, or null when it is not parked. */
  loadParked(topic: string, partition: number, key: string): Promise<Uint8Array | null>;
  /** Candles of one market and interval in open time order, each with its verification once judged. */
  candles(query: CandleQuery): Promise<StoredCandle[]>;
  /** Trend predictions of one market and interval in open time order, with their scores. */
  predictions(query: PredictionQuery): Promise<TrendPrediction[]>;
  /** Indicators of one market and interval in open time order (the same query and paging as candles). */
  indicators(query: CandleQuery): Promise<IndicatorValues[]>;
  /** Alerts in event time order (then id). */
  alerts(query?: AlertQuery): Promise<Alert[]>;
  /**
   * Exactly once for the alerts raised outside a partition (the index actors): writes `alerts`
   * (an id already stored is kept) and the asset's state that raised them in one transaction.
   */
  commitIndex(state: IndexState, alerts: readonly Alert[]): Promise<void>;
  /** An index actor's last committed state, or null when none was committed. */
  loadIndexState(asset: string): Promise<IndexState | null>;
  /** Every market with at least one stored candle, by exchange then symbol. */
  markets(): Promise<StoredMarket[]>;
  /**
   * Deletes candles and predictions older than their interval's retention at `now`, drops fully
   * expired partitions, deletes alerts older than the alerts' retention.
   */
  applyRetention(policy: RetentionPolicy, now: number): Promise<RetentionResult>;
  close(): Promise<void>;
}

/** Default retention: fine intervals are kept short, the coarse ones forever; alerts 90 days. */
export const DEFAULT_RETENTION: RetentionPolicy = Object.freeze({
  '1s': 2 * 86_400_000,
  '1m': 30 * 86_400_000,
  '3m': 60 * 86_400_000,
  '5m': 90 * 86_400_000,
  '15m': 180 * 86_400_000,
  '30m': 365 * 86_400_000,
  alerts: 90 * 86_400_000,
});
