import { context, type Span, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import {
  type ActorOutput,
  clearActorOutput,
  createActorOutput,
  type TradeOutcome,
  type TrendPrediction,
} from '../actor/output.js';
import type { RecordBatch } from '../log/log.js';
import { decodeTrade, SCHEMA_HEADER } from '../log/record.js';
import { TRADE_BATCH_SCHEMA_V1, TradeBatchReader } from '../log/trade-batch.js';
import type { Alert } from '../market/alert.js';
import type { Candle } from '../market/candle.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import { type Trade, tradeKey } from '../market/trade.js';
import { DEFAULT_MAX_EVENT_SKEW_MS, isFutureDated } from '../market/trade-fields.js';
import { BoundedQueue } from '../runtime/bounded-queue.js';
import { ConfigError, InputError } from '../runtime/errors.js';
import { retry } from '../runtime/retry.js';
import { COMMIT_RETRY } from '../runtime/retry-policies.js';
import type { ActorStateChanges, ParkedActor, Store } from '../sink/store.js';
import type { ActorFactory, MarketActorPort } from './actor-port.js';
import { CheckpointTrace, startBatchSpan } from './batch-trace.js';
import { BatchTradeRow } from './batch-trade-row.js';
import { DeadlineQueue } from './deadline-queue.js';
import { classifyError, errorCode } from './error-rule.js';
import type { WorkerMetrics } from './metrics.js';
import { alertPayload, candlePayload, type PartitionOutputs, type RejectedRecord } from './outputs.js';
import { LoadMeter, type PartitionLoad } from './partition-load.js';
import { decodePartitionState, encodePartitionState } from './partition-state.js';
import { dropsMail, nextRunnerState, type RunnerState } from './runner-state.js';

export interface PartitionConfig {
  /** Commit a checkpoint at least this often while there is anything to commit. */
  readonly checkpointIntervalMs: number;
  /**
   * A live partition's checkpoint that would commit only actor state (trades folded into open
   * windows, clock sweeps: no candle, alert, indicator or parked market waiting) waits this long
   * since the last one instead of `checkpointIntervalMs`. Fewer commits of a quiet partition; a
   * crash replays up to this much more, which re-creates the same rows. undefined: no difference.
   */
  readonly stateCheckpointIntervalMs?: number;
  /** Commit early once this many candles and alerts wait for a checkpoint. */
  readonly maxPendingRows: number;
  /** Mailbox capacity in record batches; the partition pauses at `pauseAt` and resumes at `resumeAt`. */
  readonly mailboxCapacity: number;
  readonly pauseAt: number;
  readonly resumeAt: number;
  /** The actors' out-of-orderness; the partition watermark trails its newest event time by it. */
  readonly outOfOrdernessMs: number;
  /**
   * A market is closed from the partition's watermark only this far behind it, so that a venue
   * whose feed lags the others in the partition is not made late by them.
   */
  readonly idleGraceMs: number;
  /** Live mode: a partition whose newest trade is at most `liveWindowMs` old closes quiet windows from the clock. */
  readonly clockWatermark: boolean;
  readonly liveWindowMs: number;
  /**
   * A market leaves memory and the checkpoint (parked in the store) until its next trade when
   * the swept watermark reaches its newest trade's event time plus this, if its actor is dormant
   * there (else at the next multiple of it); its empty candles end exactly there. undefined: never.
   */
  readonly evictIdleMs?: number;
  /**
   * A record holding a trade dated more than this after its receive time, or after the record's
   * append time, is a data error (reason `future-time`). Default DEFAULT_MAX_EVENT_SKEW_MS.
   */
  readonly maxEventSkewMs?: number;
  /**
   * The reference sweep: every actor on every sweep, as before sweeps visited only the actors
   * due (comparison tests and benches; the outputs are the same). Default false.
   */
  readonly sweepEveryActor?: boolean;
}

export interface PartitionRunnerDeps {
  readonly topic: string;
  readonly partition: number;
  readonly epoch: number;
  readonly actors: ActorFactory;
  readonly store: Store;
  readonly outputs: PartitionOutputs;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  /** Backpressure: stop and restart fetching this partition. */
  readonly flow: { pause(): void; resume(): void };
  readonly clock: () => number;
  readonly config: PartitionConfig;
  /** Tracing on: spans per batch, checkpoint and commit (batch-trace.ts). None: no span work at all. */
  readonly tracer?: Tracer;
  /** Called with the candle rows of each checkpoint once it is committed (the reconciler, partition-companion.ts). */
  readonly onCommitted?: (candles: readonly Candle[]) => void;
}

/** Milliseconds the end of a run took: waiting for the checkpoint in flight, then the final checkpoint's settle and commit. */
export interface StopTimings {
  inflightMs: number;
  settleMs: number;
  commitMs: number;
}

type Mail = { readonly kind: 'batch'; readonly batch: RecordBatch } | { readonly kind: 'tick' };

const OUTCOMES: readonly TradeOutcome[] = ['accepted', 'revised', 'duplicate', 'late', 'rejected'];

/** True when a trade is dated more than `skewMs` after its receive time or `appended`. */
function isFutureTrade(eventTime: number, receiveTime: number, appended: number, skewMs: number): boolean {
  return isFutureDated(eventTime, receiveTime, skewMs) || isFutureDated(eventTime, appended, skewMs);
}

/** isFutureTrade of any of the first `count` trades. */
function hasFutureTrade(
  eventTimes: Float64Array,
  receiveTimes: Float64Array,
  count: number,
  appended: number,
  skewMs: number,
): boolean {
  for (let k = 0; k < count; k++) {
    if (isFutureTrade(eventTimes[k] as number, receiveTimes[k] as number, appended, skewMs)) return true;
  }
  return false;
}

/** Records after which a batch publishes its prices (and what else it has) before going on. */
const PRICE_SLICE_RECORDS = 64;

/** Event-time step at which the partition watermark sweeps every actor (deterministic in the record order). */
const SWEEP_STEP_MS = 1_000;

/**
 * Longest the partial updates of a partition that has batches waiting are held back (see
 * `partialClock`): under sustained overload they still go out this often.
 */
const MAX_PARTIAL_HOLD_MS = 1_000;

const NO_ACTORS: ReadonlyMap<string, Uint8Array> = new Map();

/** The partial clock that holds every partial update back (MarketActorPort: `now` only rate-limits them). */
const HOLD = Number.NEGATIVE_INFINITY;

/**
 * One placed partition: its mailbox, its market actors, and its checkpoints.
 *
 * Exactly once: the actors' state, the offset after the last record it reflects and the rows
 * it produced since the previous checkpoint are committed together (Store.commit), and
 * everything the actors do is a function of the records in log order. Which trades are late
 * depends only on that order too: the partition watermark advances per record, never per
 * fetched batch. So a runner restored from any checkpoint re-creates the same rows.
 */
export class PartitionRunner {
  readonly partition: number;
  private readonly mailbox: BoundedQueue<Mail>;
  private readonly actors = new Map<string, MarketActorPort>();
  private readonly dirty = new Set<string>();
  /**
   * Incremental checkpoints: the actors' snapshots are per-market rows of the store
   * (Store.actorStates), and a checkpoint writes only the `dirty` ones and deletes the `removed`
   * ones (parked). `replaceRows`: the next checkpoint writes every actor and replaces the rows
   * (a new partition, one restored from a state that held the snapshots inline, or a checkpoint
   * that did not land).
   */
  private readonly removed = new Set<string>();
  private replaceRows = true;
  /** `swept` as the last checkpoint captured it. */
  private checkpointedSwept = Number.NEGATIVE_INFINITY;
  private readonly out: ActorOutput = createActorOutput();
  /** The trade-batch record in hand, read in place, and its entry as the actors' TradeRow. */
  private readonly reader = new TradeBatchReader();
  private readonly row = new BatchTradeRow();
  /**
   * Trades of the batch in hand by outcome, added to the metric once per batch: a labelled
   * counter inc per trade showed in the runner's CPU profile.
   */
  private readonly tally: Record<TradeOutcome, number> = {
    accepted: 0,
    revised: 0,
    duplicate: 0,
    late: 0,
    rejected: 0,
  };
  /**
   * Partial updates are conflated while batches wait in the mailbox: a worker that falls behind
   * publishes each market's latest partial once the queue drains (or after MAX_PARTIAL_HOLD_MS)
   * instead of one per batch, so the live output, the costliest part of a batch (JSON, NATS,
   * Redis), shrinks as the backlog grows and the backlog drains. Since when, and which actors
   * hold one back; `held` is the append and event time of the oldest record not yet published.
   */
  private holdingSince: number | undefined;
  private readonly holdingActors = new Set<MarketActorPort>();
  /**
   * Actors fed a trade since the last price updates: each publishes its latest price once per
   * batch (conflated per market), apart from the partials' rate limit; held like the partials
   * while batches wait.
   */
  private readonly priced = new Set<MarketActorPort>();
  private held: { append: number; event: number } | undefined;
  private pendingCandles: Candle[] = [];
  private pendingAlerts: Alert[] = [];
  private pendingPredictions: TrendPrediction[] = [];
  /** Indicators of the closed candles in pendingCandles, committed with them. */
  private pendingIndicators: IndicatorValues[] = [];
  private nextOffset: bigint;
  /** The offset of the last committed checkpoint: where the next owner would resume now. */
  private committedOffset: bigint;
  private maxEventTime = Number.NEGATIVE_INFINITY;
  private sweptBucket = Number.NEGATIVE_INFINITY;
  /**
   * Eviction (docs/WORKER.md, "Growth bounds"). `parked`: every evicted market's key and the
   * watermark it left at; `parkedBytes`: snapshots not yet known committed (a trade may bring one
   * back before its commit lands); `pendingPark` and `pendingUnpark`: what the next checkpoint
   * writes. `swept` is the highest watermark the actors were swept to and `jumps` the sweeps
   * longer than the actors' safe step while a market was parked: a returning actor replays the
   * watermarks it missed through both, so it emits what it would have had it stayed.
   */
  private readonly parked = new Map<string, number>();
  private readonly parkedBytes = new Map<string, Uint8Array>();
  private readonly pendingPark = new Map<string, ParkedActor>();
  private readonly pendingUnpark = new Set<string>();
  private swept = Number.NEGATIVE_INFINITY;
  private jumps: Array<readonly [number, number]> = [];
  /**
   * Sweeps visit only the actors due (docs/WORKER.md, "Sweeps and checkpoints"): each actor is
   * scheduled at the watermark where advancing it next does anything (MarketActorPort.nextDue,
   * or its next leaving point when evicting). The others are owed the watermark they were not
   * given: `swept`, or for an actor created since the last sweep that raised `swept` (in
   * `fresh`), the highest watermark swept since its creation. An actor is raised to what it is
   * owed before anything else is done with it, which is all the skipped sweeps would have done.
   */
  private readonly deadlines = new DeadlineQueue();
  private readonly fresh = new Map<string, number>();
  /** Actors holding a partial update back for its rate limit: sweeps and ticks flush these only. */
  private readonly partialsPending = new Set<MarketActorPort>();
  /** Set by processRecords: a record of this parked market waits until unpark() brought it back. */
  private needUnpark: string | undefined;
  private lastCheckpointAt: number;
  private paused = false;
  private readonly meter = new LoadMeter();
  private pausedSince = 0;
  private stateChanged = false;
  private state: RunnerState = 'running';
  /**
   * The checkpoint being stored (outputs settled, then the commit) while the loop goes on
   * processing: its state and rows were captured, synchronously, at one point of the record order.
   */
  private inflightCheckpoint: Promise<void> | undefined;
  /** When the checkpoint in flight started (its capture). */
  private inflightStartedAt = 0;
  /** Set when a checkpoint failed for good (fenced, or a non-retriable error): the run ends with it. */
  private checkpointFailed: { err: unknown } | undefined;
  /** Why the last commit attempt failed while retrying; undefined when commits succeed. */
  private commitFailing: string | undefined;
  /** How the run's end went, once mail stopped: waiting for the checkpoint in flight, then the final one. */
  private stopTimings: StopTimings = { inflightMs: 0, settleMs: 0, commitMs: 0 };
  private readonly log: Logger;
  private readonly labels: { partition: string };
  /** The batches' spans the next checkpoint commits; undefined while tracing is off. */
  private readonly checkpointTrace: CheckpointTrace | undefined;

  private constructor(
    private readonly deps: PartitionRunnerDeps,
    nextOffset: bigint,
  ) {
    this.partition = deps.partition;
    this.mailbox = new BoundedQueue<Mail>(deps.config.mailboxCapacity);
    this.nextOffset = nextOffset;
    this.committedOffset = nextOffset;
    this.lastCheckpointAt = deps.clock();
    this.log = deps.logger.child({ partition: deps.partition, epoch: deps.epoch });
    this.labels = { partition: String(deps.partition) };
    this.checkpointTrace = deps.tracer && new CheckpointTrace(deps.tracer);
  }

  /**
   * Claims the partition at `deps.epoch` (fencing every older owner) and restores its actors
   * from the last checkpoint. Resolves with the runner and the offset to read from.
   */
  static async open(deps: PartitionRunnerDeps): Promise<PartitionRunner> {
    const claimFrom = deps.clock();
    const checkpoint = await deps.store.claim(deps.topic, deps.partition, deps.epoch);
    const claimedAt = deps.clock();
    const runner = new PartitionRunner(deps, checkpoint?.nextOffset ?? 0n);
    if (checkpoint && checkpoint.state.length > 0) {
      const state = decodePartitionState(checkpoint.state);
      runner.maxEventTime = state.maxEventTime;
      runner.sweptBucket = runner.bucketOf(state.maxEventTime);
      runner.swept = state.swept ?? Number.NEGATIVE_INFINITY;
      runner.checkpointedSwept = runner.swept;
      runner.jumps = [...(state.jumps ?? [])];
      for (const [key, owed] of state.fresh ?? []) runner.fresh.set(key, owed);
      runner.replaceRows = state.actorsInRows !== true;
      const snapshots = state.actorsInRows ? await deps.store.actorStates(deps.topic, deps.partition) : state.actors;
      for (const [key, bytes] of snapshots) {
        const actor = deps.actors.restore(bytes);
        runner.actors.set(key, actor);
        runner.schedule(key, actor);
      }
    }
    if (deps.config.evictIdleMs !== undefined) {
      for (const p of await deps.store.parkedActors(deps.topic, deps.partition)) runner.parked.set(p.key, p.watermark);
    }
    runner.countMarkets();
    runner.log.info(
      {
        nextOffset: String(runner.nextOffset),
        markets: runner.actors.size,
        parked: runner.parked.size,
        claimTxMs: claimedAt - claimFrom,
        restoreMs: deps.clock() - claimedAt,
      },
      'partition opened',
    );
    return runner;
  }

  /** The offset after the last record processed. */
  get offset(): bigint {
    return this.nextOffset;
  }

  /** The offset of the last committed checkpoint. */
  get committed(): bigint {
    return this.committedOffset;
  }

  /** Where the end of the last run went: the wait for the checkpoint in flight, the final settle and commit. */
  get lastStop(): StopTimings {
    return this.stopTimings;
  }

  /** stop() was called: the run is finishing, or finished. */
  get isStopping(): boolean {
    return this.state !== 'running';
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The partition's measured input rate and this worker's lag behind it (for the operator's placement). */
  load(now: number): PartitionLoad {
    return this.meter.snapshot(now, this.paused, this.nextOffset);
  }

  /** Why this partition cannot make progress right now (a store, bus, cache or log outage), or undefined. */
  get problem(): string | undefined {
    return this.commitFailing ?? this.deps.outputs.problem;
  }

  /**
   * The partition's end offset read from the broker at `at` (EndOffsetProbe): the lag and the
   * input rate keep counting while no batch arrives to tell them (paused, or commits failing).
   */
  observeEnd(at: number, end: bigint): void {
    this.meter.observe(at, end);
    this.deps.metrics.lag.set(this.labels, end > this.nextOffset ? Number(end - this.nextOffset) : 0);
  }

  /** Hands a fetched batch to the mailbox; pauses the partition when the mailbox runs full. */
  async enqueue(batch: RecordBatch, signal: AbortSignal): Promise<void> {
    if (this.mailbox.isClosed) return;
    this.meter.observe(this.deps.clock(), batch.highWatermark);
    if (!this.mailbox.tryPush({ kind: 'batch', batch })) await this.mailbox.push({ kind: 'batch', batch }, signal);
    this.deps.metrics.mailboxDepth.set(this.labels, this.mailbox.size);
    if (!this.paused && this.mailbox.size >= this.deps.config.pauseAt) this.setPaused(true);
  }

  /** A clock tick: live watermark, rate-limited partials, time-based checkpoints. Dropped when the mailbox is full. */
  tick(): void {
    if (!this.mailbox.isClosed) this.mailbox.tryPush({ kind: 'tick' });
  }

  /**
   * Processes mail until the mailbox is closed and empty, then commits a final checkpoint.
   * Rejects with FencedError when a newer owner holds the partition.
   */
  async run(signal: AbortSignal): Promise<void> {
    try {
      for await (const mail of this.mailbox) {
        signal.throwIfAborted();
        this.throwIfCheckpointFailed();
        if (dropsMail(this.state)) continue;
        if (mail.kind === 'batch') {
          this.process(mail.batch);
          // A parked market's record stopped the batch there: bring its actor back, go on from it.
          while (this.needUnpark !== undefined) {
            await this.unpark(this.needUnpark, signal);
            this.needUnpark = undefined;
            this.process(mail.batch);
          }
          // A full mailbox is drained through microtasks alone, which starves timers and sockets
          // (heartbeats, the placement watch, other partitions' commits) for as long as it lasts.
          await new Promise((resolve) => setImmediate(resolve));
        } else this.onTick();
        this.deps.metrics.mailboxDepth.set(this.labels, this.mailbox.size);
        if (this.paused && this.mailbox.size <= this.deps.config.resumeAt) this.setPaused(false);
        if (this.checkpointDue()) {
          // One checkpoint in flight at a time. The next one due starts once it is committed; the
          // loop goes on meanwhile (the live outputs wait for no commit), unless the one in flight
          // is overdue (a store or bus outage): then the loop waits for it, so an outage stops the
          // loop (the mailbox fills and the partition pauses) and what waits for a commit stays bounded.
          if (this.inflightCheckpoint !== undefined && this.checkpointOverdue()) {
            await this.inflightCheckpoint;
            this.throwIfCheckpointFailed();
          }
          if (this.inflightCheckpoint === undefined) this.startCheckpoint(signal);
        }
      }
      // Partial updates a hold kept back go out before the final checkpoint (which settles them):
      // a stop that discards the queued batches would otherwise leave them unpublished.
      if (this.holdingActors.size + this.priced.size > 0 && this.state !== 'abandoned')
        this.collect([], this.releaseHeld(this.deps.clock()));
      const stopping = this.deps.clock();
      await this.inflightCheckpoint;
      this.stopTimings = { inflightMs: this.deps.clock() - stopping, settleMs: 0, commitMs: 0 };
      this.throwIfCheckpointFailed();
      // Clock sweeps that advanced no actor made no checkpoint due; the last one holds them, so
      // that the next owner goes on from the watermark this one reached.
      if (this.swept !== this.checkpointedSwept) this.stateChanged = true;
      if (this.state !== 'abandoned') await this.checkpoint(signal, this.stopTimings);
    } finally {
      // A failed run leaves no checkpoint running behind it.
      await this.inflightCheckpoint;
    }
    if (this.paused) this.setPaused(false);
  }

  /** Starts a checkpoint (its capture is synchronous, see checkpoint()); `inflightCheckpoint` until it settles. */
  private startCheckpoint(signal: AbortSignal): void {
    this.inflightStartedAt = this.deps.clock();
    const inflight = this.checkpoint(signal)
      .catch((err: unknown) => {
        this.checkpointFailed = { err };
        // Wakes a loop waiting for mail: the run ends with the error.
        this.mailbox.close();
      })
      .finally(() => {
        if (this.inflightCheckpoint === inflight) this.inflightCheckpoint = undefined;
      });
    this.inflightCheckpoint = inflight;
  }

  /**
   * The checkpoint in flight has run longer than the checkpoint interval, or the rows waiting
   * behind it reached `maxPendingRows`: the loop goes no further ahead of the commit.
   */
  private checkpointOverdue(): boolean {
    const { config } = this.deps;
    return (
      this.deps.clock() - this.inflightStartedAt >= config.checkpointIntervalMs ||
      this.pendingRowCount() >= config.maxPendingRows
    );
  }

  /**
   * No more mail: run() finishes what is queued, commits, and resolves. With `discardQueued`, it
   * commits at once what it has processed and leaves the queued batches unprocessed: the checkpoint's
   * offset is where whoever runs the partition next reads them again (a handoff does not wait for a
   * full mailbox).
   */
  stop(options: { discardQueued?: boolean } = {}): void {
    this.state = nextRunnerState(this.state, options.discardQueued ? 'stop-discarding' : 'stop');
    this.mailbox.close();
  }

  private process(batch: RecordBatch): void {
    const first = batch.records[0];
    const span = this.checkpointTrace && startBatchSpan(this.checkpointTrace.tracer, batch, this.partition);
    if (!span?.isRecording()) {
      span?.end();
      this.processRecords(batch, first);
      return;
    }
    // What the batch publishes (worker.publish, outputs.ts) is a child of its span.
    const rows = this.pendingRowCount();
    try {
      context.with(trace.setSpan(context.active(), span), () => this.processRecords(batch, first));
    } finally {
      span.end();
    }
    this.checkpointTrace?.add(span.spanContext(), this.pendingRowCount() > rows);
  }

  /**
   * After stop(): commit nothing more. A release announced before its final checkpoint was
   * committed hands the partition over at the last committed checkpoint; a commit this run would
   * start now could only hold up the new owner's claim (both take the checkpoint row's lock) or be
   * fenced by it. A commit already under way goes on: it lands before the claim or is fenced.
   */
  abandon(): void {
    this.state = nextRunnerState(this.state, 'abandon');
  }

  private processRecords(batch: RecordBatch, first: RecordBatch['records'][number] | undefined): void {
    const { deps, out } = this;
    const now = deps.clock();
    const partialNow = this.partialClock(now);
    const rejected: RejectedRecord[] = [];
    const tally = this.tally;
    let undecodable = 0;
    let decoded = 0;
    let tradesIn = 0;
    let firstEvent = Number.NaN;
    const { reader, row } = this;
    const skewMs = deps.config.maxEventSkewMs ?? DEFAULT_MAX_EVENT_SKEW_MS;
    let slice = 0;
    for (const record of batch.records) {
      if (record.offset < this.nextOffset) continue;
      this.nextOffset = record.offset + 1n;
      // One trade (trade.v1) or several of one market (trade-batch.v1, read in place): a record
      // is processed whole, so the checkpoint's offset never falls inside one. Decoding checks
      // every text field (printable ASCII: nothing PostgreSQL could refuse reaches an actor).
      let single: Trade | undefined;
      try {
        if (record.headers?.[SCHEMA_HEADER] === TRADE_BATCH_SCHEMA_V1) {
          single = undefined;
          reader.read(record.value);
        } else single = decodeTrade(record.value, record.headers);
      } catch (err) {
        const reason = err instanceof InputError ? err.reason : 'malformed-record';
        rejected.push({
          reason,
          message: err instanceof Error ? err.message : String(err),
          partition: record.partition,
          offset: record.offset,
          key: record.key,
          value: record.value,
        });
        undecodable++;
        continue;
      }
      const count = single === undefined ? reader.count : 1;
      // The log's append time, when it has one (Kafka gives -1 without): what the watermark may
      // not pass, and what bounds the event times of the record's trades with the receive times.
      const appended = record.timestamp > 0 ? record.timestamp : Number.POSITIVE_INFINITY;
      if (
        single === undefined
          ? hasFutureTrade(reader.eventTime, reader.receiveTime, count, appended, skewMs)
          : isFutureTrade(single.eventTime, single.receiveTime, appended, skewMs)
      ) {
        rejected.push({
          reason: 'future-time',
          message: 'trade event time is later than its receive or append time plus the allowed skew',
          partition: record.partition,
          offset: record.offset,
          key: record.key,
          value: record.value,
        });
        tally.rejected += count;
        continue;
      }
      const key = single === undefined ? `${reader.exchange}:${reader.symbol}` : tradeKey(single);
      if (this.parked.has(key) && !this.actors.has(key)) {
        // Its actor is parked: the run loop brings it back and processes the batch again from here.
        this.nextOffset = record.offset;
        this.needUnpark = key;
        break;
      }
      decoded++;
      tradesIn += count;
      if (Number.isNaN(firstEvent))
        firstEvent = single === undefined ? (reader.eventTime[0] as number) : single.eventTime;
      let actor = this.actors.get(key);
      if (!actor) {
        actor = deps.actors.create(single ?? reader.trade(0));
        this.actors.set(key, actor);
        this.fresh.set(key, Number.NEGATIVE_INFINITY);
        this.countMarkets();
      } else this.catchUp(key, actor, this.swept);
      this.dirty.add(key);
      if (partialNow === HOLD) this.holdingActors.add(actor);
      this.priced.add(actor);
      for (let k = 0; k < count; k++) {
        let eventTime: number;
        if (single !== undefined) {
          tally[actor.onTrade(single, partialNow, out)]++;
          eventTime = single.eventTime;
        } else {
          // A price or size the row cannot hold goes in as its Trade, which the actor rejects.
          tally[
            row.load(reader, k)
              ? actor.onTradeRow(row, partialNow, out)
              : actor.onTrade(reader.trade(k), partialNow, out)
          ]++;
          eventTime = reader.eventTime[k] as number;
        }
        // The partition watermark follows event time but never passes the log's append clock:
        // one trade dated ahead (within the skew) moves its own market, not every other one.
        const time = eventTime < appended ? eventTime : appended;
        if (time > this.maxEventTime) {
          this.maxEventTime = time;
          const bucket = this.bucketOf(time);
          if (bucket > this.sweptBucket) {
            this.sweptBucket = bucket;
            this.sweep(this.partitionWatermark(), partialNow);
          }
        }
      }
      // Unless a sweep of its own trades parked it.
      if (this.actors.get(key) === actor) {
        if (actor.pendingPartial) this.partialsPending.add(actor);
        this.schedule(key, actor);
      }
      // A large batch publishes what it has so far every PRICE_SLICE_RECORDS records: a price then
      // waits in the worker for a slice of the batch, not the whole of it. (Not timed in the
      // append-to-publish histogram: the batch's own publish at its end is.)
      if (++slice === PRICE_SLICE_RECORDS && partialNow !== HOLD) {
        slice = 0;
        for (const a of this.priced) a.flushPrice(out);
        this.priced.clear();
        this.collect([], undefined);
      }
    }
    this.stateChanged = true;
    for (const outcome of OUTCOMES) {
      if (tally[outcome] > 0) deps.metrics.trades.inc({ outcome }, tally[outcome]);
      tally[outcome] = 0;
    }
    if (undecodable > 0) deps.metrics.trades.inc({ outcome: 'undecodable' }, undecodable);
    if (decoded > 0) this.meter.processed(decoded, tradesIn);
    deps.metrics.lag.set(this.labels, Number(batch.highWatermark - this.nextOffset));
    const oldest = { append: first?.timestamp ?? now, event: Number.isNaN(firstEvent) ? now : firstEvent };
    if (partialNow === HOLD) {
      this.held ??= oldest;
      this.collect(rejected, undefined);
    } else this.collect(rejected, this.releaseHeld(now) ?? oldest);
  }

  /**
   * The clock for partial updates of the mail in hand: HOLD while more mail waits behind it
   * (for at most MAX_PARTIAL_HOLD_MS), else `now`.
   */
  private partialClock(now: number): number {
    if (this.mailbox.size === 0) return now;
    this.holdingSince ??= now;
    return now - this.holdingSince < MAX_PARTIAL_HOLD_MS ? HOLD : now;
  }

  /**
   * Ends a hold, and a batch that was not held: the actors that held partials back publish them
   * (as the rate limit allows at `now`; the rest goes at a later tick), and those fed a trade
   * since the last prices publish their latest price. Returns the append and event time of the oldest
   * record the hold covered, which the latency histograms start from.
   */
  private releaseHeld(now: number): { append: number; event: number } | undefined {
    this.holdingSince = undefined;
    for (const actor of this.holdingActors) actor.flushPartials(now, this.out);
    this.holdingActors.clear();
    for (const actor of this.priced) actor.flushPrice(this.out);
    this.priced.clear();
    const held = this.held;
    this.held = undefined;
    return held;
  }

  private onTick(): void {
    const deps = this.deps;
    const config = deps.config;
    const now = deps.clock();
    const partialNow = this.partialClock(now);
    // What a hold covered goes out with this tick's release, timed from its oldest record.
    const released = partialNow === HOLD ? undefined : this.releaseHeld(now);
    // Only live partitions follow the clock: a replay of old trades must close its windows from
    // the trades alone, or its output would depend on when it ran.
    if (config.clockWatermark && this.maxEventTime >= now - config.liveWindowMs) {
      // A sweep that advanced no actor changed no state a restore could not recompute (the
      // owed watermarks): it makes no checkpoint due.
      if (this.sweep(now - config.outOfOrdernessMs - config.idleGraceMs, partialNow)) this.stateChanged = true;
      this.collect([], released);
      return;
    }
    // Not following the clock: only the partials held back by their rate limit go out, so the
    // latest candle a reader sees catches up with the last trade processed.
    if (partialNow !== HOLD) this.flushPartials(now);
    if (this.out.partial.length > 0 || this.out.prices.length > 0) this.collect([], released);
    // The cache's conflated live updates go out once their interval passed, batches or not.
    else deps.outputs.tick();
  }

  /** True when it advanced an actor (state to checkpoint). */
  private sweep(watermark: number, now: number): boolean {
    const evictIdleMs = this.deps.config.evictIdleMs;
    const before = this.swept;
    if (watermark > this.swept) {
      // A step a parked actor could not replay in safe steps: kept so that it replays it whole
      // (checkpoint() keeps only those some parked actor is still behind).
      if (
        evictIdleMs !== undefined &&
        this.swept > Number.NEGATIVE_INFINITY &&
        watermark - this.swept > this.deps.actors.safeStepMs
      ) {
        this.jumps.push([this.swept, watermark]);
      }
      this.swept = watermark;
    }
    // The actors due: at or past their due time with the watermark they are owed (at most
    // `swept`) or this one, whichever is higher (advance() looks at the higher).
    const due = this.dueKeys;
    if (this.deps.config.sweepEveryActor) for (const key of this.actors.keys()) due.push(key);
    else this.deadlines.takeDue(Math.max(watermark, this.swept), due);
    for (const key of due) {
      const actor = this.actors.get(key);
      if (!actor) continue;
      this.catchUp(key, actor, before);
      this.dirty.add(key);
      if (evictIdleMs !== undefined && this.leaves(key, actor, watermark, evictIdleMs)) continue;
      actor.advance(watermark, now, this.out);
      if (!actor.pendingPartial) this.partialsPending.delete(actor);
      this.schedule(key, actor);
    }
    const advanced = due.length > 0;
    due.length = 0;
    // The actors created since the last sweep that raised `swept` are owed this one too.
    if (watermark >= before) this.fresh.clear();
    else for (const [key, owed] of this.fresh) if (watermark > owed) this.fresh.set(key, watermark);
    this.flushPartials(now);
    return advanced;
  }

  /** Scratch list of the keys a sweep visits. */
  private readonly dueKeys: string[] = [];

  /** Raises an actor to the watermark the sweeps that skipped it would have given it (`swept` as of then). */
  private catchUp(key: string, actor: MarketActorPort, swept: number): void {
    const owed = this.fresh.get(key) ?? swept;
    if (actor.watermark < owed) actor.reach(owed, owed, this.out);
  }

  /** Puts an actor in the deadline queue at the watermark it is next due (its next leaving point, if sooner). */
  private schedule(key: string, actor: MarketActorPort): void {
    let due = actor.nextDue();
    const idleMs = this.deps.config.evictIdleMs;
    if (idleMs !== undefined) {
      // The first leaving point past the watermark it has or is owed (as leaves() counts them).
      const last = actor.lastEventTime;
      const wm = Math.max(actor.watermark, this.fresh.get(key) ?? this.swept);
      const leave = Number.isFinite(last)
        ? last + idleMs * Math.max(1, Math.floor((wm - last) / idleMs) + 1)
        : Number.NEGATIVE_INFINITY;
      if (leave < due) due = leave;
    }
    this.deadlines.schedule(key, due);
  }

  /** Publishes the partial updates held back by their rate limit, as far as it allows at `now`. */
  private flushPartials(now: number): void {
    if (now === HOLD) return;
    for (const actor of this.partialsPending) {
      actor.flushPartials(now, this.out);
      if (!actor.pendingPartial) this.partialsPending.delete(actor);
    }
  }

  /**
   * Eviction at a point of the data alone: a market leaves when the watermark reaches its
   * leaving point, its last trade's event time plus `idleMs` (or, if it was not dormant there,
   * the next multiple of `idleMs` after it). The actor reaches exactly that point, closing the
   * windows this sweep would have closed up to it (a run of empty windows cut as the sweep would
   * cut it) and nothing else, so one that stays and is swept on is the actor that was never
   * stopped there; a dormant one is parked with that point as its watermark. So how the watermark got there,
   * in small sweeps or in one jump, by batch, tick or restart, changes neither where the market's
   * empty candles end nor what its returning actor replays. True when the actor was parked.
   */
  private leaves(key: string, actor: MarketActorPort, watermark: number, idleMs: number): boolean {
    const last = actor.lastEventTime;
    if (!Number.isFinite(last)) {
      // No trade accepted (every one was rejected): no window to close, nothing to wait for.
      if (!actor.dormant()) return false;
      this.park(key, actor);
      return true;
    }
    // Every leaving point this sweep passes is tried in turn, as sweeps passing them one by one
    // would try them: a jump does not skip one.
    for (
      let at = last + idleMs * Math.max(1, Math.floor((actor.watermark - last) / idleMs) + 1);
      at <= watermark;
      at += idleMs
    ) {
      actor.reach(at, watermark, this.out);
      this.dirty.add(key);
      if (actor.dormant()) {
        this.park(key, actor);
        return true;
      }
    }
    return false;
  }

  /** Evicts a dormant actor: out of memory and the partition state, its snapshot to the store with the next checkpoint. */
  private park(key: string, actor: MarketActorPort): void {
    const state = actor.snapshot();
    this.actors.delete(key);
    this.removed.add(key);
    this.dirty.delete(key);
    this.holdingActors.delete(actor);
    this.priced.delete(actor);
    this.deadlines.delete(key);
    this.fresh.delete(key);
    this.partialsPending.delete(actor);
    this.parked.set(key, actor.watermark);
    this.parkedBytes.set(key, state);
    this.pendingPark.set(key, { key, watermark: actor.watermark, state });
    this.pendingUnpark.delete(key);
    this.stateChanged = true;
    this.deps.metrics.evictions.inc({ event: 'parked' });
    this.countMarkets();
    this.log.debug({ market: key, watermark: actor.watermark }, 'idle market parked');
  }

  /**
   * Brings a parked actor back for its next trade: its snapshot (from memory if its park is not
   * known committed, else from the store, retried while the store is away), then the watermarks
   * it missed: the recorded jumps as they were, the rest in safe steps, up to the last sweep. The
   * empty candles of the idle span, and everything else a sweep does, come out as the actor that
   * stayed would have emitted them (MarketActor.dormant).
   */
  private async unpark(key: string, signal: AbortSignal): Promise<void> {
    const { deps } = this;
    const bytes =
      this.parkedBytes.get(key) ??
      (await retry(() => deps.store.loadParked(deps.topic, this.partition, key), {
        ...COMMIT_RETRY,
        signal,
        onRetry: (err) => {
          this.commitFailing = String(err);
        },
      }));
    this.commitFailing = undefined;
    if (bytes === null) throw new ConfigError(`partition ${this.partition}: parked market ${key} has no stored state`);
    const actor = deps.actors.restore(bytes);
    const now = deps.clock();
    const step = deps.actors.safeStepMs;
    const advanceTo = (w: number) => {
      while (actor.watermark < w) {
        const before = actor.watermark;
        actor.advance(Math.min(w, before + step), now, this.out);
        if (actor.watermark <= before) break;
      }
    };
    for (const [from, to] of this.jumps) {
      if (to <= actor.watermark) continue;
      advanceTo(from);
      actor.advance(to, now, this.out);
    }
    advanceTo(this.swept);
    this.actors.set(key, actor);
    this.dirty.add(key);
    this.fresh.delete(key);
    this.schedule(key, actor);
    if (actor.pendingPartial) this.partialsPending.add(actor);
    this.parked.delete(key);
    this.parkedBytes.delete(key);
    this.pendingPark.delete(key);
    this.pendingUnpark.add(key);
    this.stateChanged = true;
    deps.metrics.evictions.inc({ event: 'returned' });
    this.countMarkets();
    // What the catch-up closed is committed and published with the batch's own outputs.
    this.collect([], undefined);
  }

  private countMarkets(): void {
    this.deps.metrics.markets.set({ ...this.labels, state: 'memory' }, this.actors.size);
    this.deps.metrics.markets.set({ ...this.labels, state: 'parked' }, this.parked.size);
  }

  /** The jumps a parked actor may still have to replay (those past the lowest parked watermark). */
  private liveJumps(): Array<readonly [number, number]> {
    if (this.parked.size === 0) return [];
    let low = Number.POSITIVE_INFINITY;
    for (const w of this.parked.values()) if (w < low) low = w;
    return this.jumps.filter(([, to]) => to > low);
  }

  private collect(rejected: readonly RejectedRecord[], oldest: { append: number; event: number } | undefined): void {
    const out = this.out;
    for (const c of out.closed) this.pendingCandles.push(c);
    for (const c of out.revised) this.pendingCandles.push(c);
    for (const a of out.alerts) this.pendingAlerts.push(a);
    for (const p of out.predictions) this.pendingPredictions.push(p);
    for (const v of out.indicators) this.pendingIndicators.push(v);
    this.deps.outputs.emit(out, rejected, oldest);
    clearActorOutput(out);
    this.deps.metrics.pendingRows.set(this.labels, this.pendingRowCount());
  }

  private checkpointDue(): boolean {
    const pendingRows = this.pendingRowCount();
    if (pendingRows >= this.deps.config.maxPendingRows) return true;
    if (!this.stateChanged && pendingRows === 0) return false;
    const now = this.deps.clock();
    return now - this.lastCheckpointAt >= this.checkpointEvery(pendingRows, now);
  }

  /** How long since the last checkpoint the next one waits: longer when only a live partition's actor state changed. */
  private checkpointEvery(pendingRows: number, now: number): number {
    const config = this.deps.config;
    const stateOnly =
      pendingRows === 0 &&
      this.pendingIndicators.length === 0 &&
      this.pendingPark.size === 0 &&
      this.pendingUnpark.size === 0;
    if (!stateOnly || config.stateCheckpointIntervalMs === undefined) return config.checkpointIntervalMs;
    // A partition catching up checkpoints as often as ever, so that a crash replays little of it.
    const live = config.clockWatermark && this.maxEventTime >= now - config.liveWindowMs;
    return live ? Math.max(config.checkpointIntervalMs, config.stateCheckpointIntervalMs) : config.checkpointIntervalMs;
  }

  /**
   * Publishes the at-least-once outputs, then commits candles, alerts and the checkpoint in one
   * transaction. Retries while the servers are unavailable (the mailbox fills and the partition
   * pauses meanwhile); a FencedError ends the partition.
   */
  private async checkpoint(signal: AbortSignal, timings?: StopTimings): Promise<void> {
    if (!this.stateChanged && this.pendingRowCount() === 0) return;
    // Everything up to the first await is the capture: the actors' snapshots, the rows and the
    // offset at this point of the record order. The loop may process more records meanwhile;
    // they belong to the next checkpoint.
    const started = this.deps.clock();
    const replaceAll = this.replaceRows;
    const changed: Array<{ key: string; state: Uint8Array }> = [];
    for (const key of replaceAll ? this.actors.keys() : this.dirty) {
      const actor = this.actors.get(key);
      if (actor) changed.push({ key, state: actor.snapshot() });
    }
    const actorStates = { replaceAll, changed, removed: replaceAll ? [] : [...this.removed] };
    this.dirty.clear();
    this.removed.clear();
    this.replaceRows = false;
    this.jumps = this.liveJumps();
    this.checkpointedSwept = this.swept;
    const state = encodePartitionState({
      maxEventTime: this.maxEventTime,
      actors: NO_ACTORS,
      swept: this.swept,
      jumps: this.jumps,
      fresh: this.fresh,
      actorsInRows: true,
    });
    let bytes = state.length;
    for (const c of changed) bytes += c.state.length;
    const parked = [...this.pendingPark.values()];
    const unparked = [...this.pendingUnpark];
    this.pendingPark.clear();
    this.pendingUnpark.clear();
    const candles = this.pendingCandles;
    const alerts = this.pendingAlerts;
    const predictions = this.pendingPredictions;
    const indicators = this.pendingIndicators;
    const nextOffset = this.nextOffset;
    this.pendingCandles = [];
    this.pendingAlerts = [];
    this.pendingPredictions = [];
    this.pendingIndicators = [];
    this.stateChanged = false;
    const span: Span | undefined = this.checkpointTrace?.startSpan(
      this.partition,
      candles.length + alerts.length + predictions.length,
    );
    try {
      await this.deps.outputs.settle(signal);
      const settled = this.deps.clock();
      const extra = { parked, unparked, predictions, indicators, actorStates };
      const commit = () => this.commitWithRetry(signal, nextOffset, state, candles, alerts, extra);
      const committed =
        span && this.checkpointTrace ? await this.checkpointTrace.commitSpan(span, commit) : await commit();
      if (!committed) {
        this.replaceRows = true;
        return;
      }
      this.committedOffset = nextOffset;
      if (candles.length > 0) this.deps.onCommitted?.(candles);
      // Committed: a parked snapshot is read back from the store from now on.
      for (const p of parked) if (this.parkedBytes.get(p.key) === p.state) this.parkedBytes.delete(p.key);
      if (timings) {
        timings.settleMs = settled - started;
        timings.commitMs = this.deps.clock() - settled;
      }
    } catch (err) {
      // What this one wrote is unknown to the next: it writes every row.
      this.replaceRows = true;
      span?.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
      throw err;
    } finally {
      span?.end();
    }
    this.lastCheckpointAt = this.deps.clock();
    const m = this.deps.metrics;
    m.checkpointSeconds.observe((this.lastCheckpointAt - started) / 1000);
    m.checkpointBytes.observe(bytes);
    m.candles.inc({ kind: 'closed' }, candles.filter((c) => c.revision === 0).length);
    m.candles.inc({ kind: 'revised' }, candles.filter((c) => c.revision > 0).length);
    m.alerts.inc(alerts.length);
    m.pendingRows.set(this.labels, this.pendingRowCount());
  }

  private pendingRowCount(): number {
    return this.pendingCandles.length + this.pendingAlerts.length + this.pendingPredictions.length;
  }

  /**
   * Commits, by the worker's error rule (error-rule.ts): a retriable error (PostgreSQL away, out
   * of disk or memory) is retried with COMMIT_RETRY while /readyz names the partition; a data
   * error (a row the database refuses) sets the refused rows aside (quarantine) and commits the
   * rest; anything else, FencedError included, is thrown and ends the run. False when abandoned
   * before a commit started.
   */
  private async commitWithRetry(
    signal: AbortSignal,
    nextOffset: bigint,
    state: Uint8Array,
    candles: readonly Candle[],
    alerts: readonly Alert[],
    extra: {
      parked: readonly ParkedActor[];
      unparked: readonly string[];
      predictions: readonly TrendPrediction[];
      indicators: readonly IndicatorValues[];
      actorStates: ActorStateChanges;
    },
  ): Promise<boolean> {
    let rows = { candles, alerts };
    return retry(
      async () => {
        for (;;) {
          if (this.state === 'abandoned') return false;
          try {
            await this.deps.store.commit({
              topic: this.deps.topic,
              partition: this.partition,
              epoch: this.deps.epoch,
              nextOffset,
              state,
              ...rows,
              ...extra,
            });
            this.commitFailing = undefined;
            return true;
          } catch (err) {
            this.deps.metrics.commitErrors.inc({ code: errorCode(err) });
            if (classifyError(err) !== 'data') throw err;
            rows = await this.quarantine(rows, err, nextOffset, signal);
          }
        }
      },
      {
        ...COMMIT_RETRY,
        signal,
        onRetry: (err, attempt, delayMs) => {
          this.commitFailing = String(err);
          if (attempt === 1) this.log.warn({ err, code: errorCode(err) }, 'checkpoint commit failed, retrying');
          else this.log.debug({ code: errorCode(err), attempt, delayMs }, 'checkpoint commit retry');
        },
      },
    );
  }

  /**
   * The last line behind the record decoder's text checks: a commit the database refused for a
   * value. The rows it refuses on their own (Store.refused) go to the rejected topic, reason
   * `store-refused`, and the commit goes on without them. Whether a row is refused depends on the row alone, so a replay,
   * whatever its checkpoints, sets aside the same rows and the candle table ends the same. Throws
   * `err` when no row alone is refused (then it is not the rows' fault).
   */
  private async quarantine(
    rows: { candles: readonly Candle[]; alerts: readonly Alert[] },
    err: unknown,
    nextOffset: bigint,
    signal: AbortSignal,
  ): Promise<{ candles: readonly Candle[]; alerts: readonly Alert[] }> {
    const refused = await this.deps.store.refused(rows);
    if (refused.candles.length + refused.alerts.length === 0) throw err;
    const gone = new Set<unknown>();
    const records: RejectedRecord[] = [];
    const reject = (row: Candle | Alert, reason: string, value: Uint8Array) => {
      gone.add(row);
      records.push({
        reason: 'store-refused',
        message: reason,
        partition: this.partition,
        offset: nextOffset,
        key: `${row.exchange}:${row.symbol}`,
        value,
      });
    };
    for (const r of refused.candles) reject(r.row, r.reason, candlePayload(r.row));
    for (const r of refused.alerts) reject(r.row, r.reason, alertPayload(r.row));
    this.log.error(
      { candles: refused.candles.length, alerts: refused.alerts.length, err },
      'rows refused by the store, rejected',
    );
    this.deps.metrics.refusedRows.inc({ kind: 'candle' }, refused.candles.length);
    this.deps.metrics.refusedRows.inc({ kind: 'alert' }, refused.alerts.length);
    this.deps.outputs.emit(createActorOutput(), records, undefined);
    await this.deps.outputs.settle(signal);
    return { candles: rows.candles.filter((c) => !gone.has(c)), alerts: rows.alerts.filter((a) => !gone.has(a)) };
  }

  private throwIfCheckpointFailed(): void {
    if (this.checkpointFailed) throw this.checkpointFailed.err;
  }

  private partitionWatermark(): number {
    return this.maxEventTime - this.deps.config.outOfOrdernessMs - this.deps.config.idleGraceMs;
  }

  private bucketOf(eventTime: number): number {
    return Math.floor((eventTime - this.deps.config.outOfOrdernessMs - this.deps.config.idleGraceMs) / SWEEP_STEP_MS);
  }

  private setPaused(paused: boolean): void {
    const now = this.deps.clock();
    this.paused = paused;
    if (paused) {
      this.pausedSince = now;
      this.deps.flow.pause();
    } else {
      this.deps.metrics.pausedSeconds.inc(this.labels, (now - this.pausedSince) / 1000);
      this.deps.flow.resume();
    }
    this.deps.metrics.paused.set(this.labels, paused ? 1 : 0);
  }
}
