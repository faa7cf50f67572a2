import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import { ALERTS_STREAM, CANDLES_STREAM } from '../bus/subject-names.js';
import type { LogConsumer, LogProducer } from '../log/log.js';
import type { Candle } from '../market/candle.js';
import type { Component } from '../runtime/component.js';
import { DrainTimeoutError, FencedError } from '../runtime/errors.js';
import type { Cache } from '../sink/cache.js';
import type { RetentionPolicy, Store } from '../sink/store.js';
import type { ActorFactory } from './actor-port.js';
import type { WorkerMetrics } from './metrics.js';
import { type OutputTopics, PartitionOutputs } from './outputs.js';
import type { PartitionCompanion } from './partition-companion.js';
import type { PartitionLoad } from './partition-load.js';
import { type PartitionConfig, PartitionRunner } from './partition-runner.js';

export interface WorkerConfig {
  readonly topic: string;
  readonly outputTopics: OutputTopics;
  readonly partition: PartitionConfig;
  /** Clock tick for live watermarks, partial flushes and time-based checkpoints. */
  readonly tickMs: number;
  /** Partial candles and prices go to the cache at most this often (PartitionOutputs); 0: every batch. */
  readonly liveCacheIntervalMs: number;
  /** drain() gives up (DrainTimeoutError) after this long. */
  readonly drainTimeoutMs: number;
  /** How long each interval's candles are kept, and how often that is enforced. */
  readonly retention: RetentionPolicy;
  readonly retentionEveryMs: number;
}

export interface WorkerDeps {
  readonly consumer: LogConsumer;
  readonly producer: LogProducer;
  readonly store: Store;
  readonly bus: Bus;
  readonly cache: Pick<Cache, 'putCandles' | 'putIndicators' | 'putPrices'>;
  readonly actors: ActorFactory;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  readonly clock: () => number;
  readonly config: WorkerConfig;
  /** Tracing on: the partitions' spans (batch-trace.ts, outputs.ts). None: no span work. */
  readonly tracer?: Tracer;
  /** Runs beside each partition and moves with it (the live reconciler, reconciler-host.ts). */
  readonly companion?: PartitionCompanion;
}

/** The clock tick of the partitions is spread over this many steps of `tickMs` (see start). */
const TICK_SLICES = 8;

type State = 'new' | 'starting' | 'running' | 'draining' | 'closed';

interface Running {
  readonly runner: PartitionRunner;
  readonly epoch: number;
  readonly done: Promise<void>;
}

/** Where a released partition stands when release() resolves. */
export interface Released {
  /** The offset after the last record processed here. */
  readonly processed: bigint;
  /**
   * The offset of the checkpoint the next owner resumes from, once the final checkpoint is committed;
   * undefined when release() stopped waiting for it (the next owner resumes from whichever checkpoint
   * is committed when it claims, and redoes the rest).
   */
  readonly committed: bigint | undefined;
}

/**
 * A worker process's partitions: it claims each placed partition at its epoch, restores the
 * partition's actors from the last checkpoint, reads the partition from the checkpointed
 * offset and runs it (internal/worker/partition-runner.ts). Partitions come and go with the
 * placement (assign/release); one that a newer epoch fenced is dropped and reported.
 */
export class Worker implements Component {
  private state: State = 'new';
  private readonly running = new Map<number, Running>();
  private readonly controller = new AbortController();
  private consumerLoop: Promise<void> | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private retention: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private lastError: string | undefined;
  /** The first failure that is neither a data error nor retriable (error-rule.ts): the process must restart. */
  private fatal: Error | undefined;
  private onFatal: (err: Error) => void = () => {};
  /**
   * Resolves with the first fatal failure: a partition failed (neither a data error nor a
   * retriable one) or the consumer failed. The caller (cmd/) drains what is left and exits
   * non-zero so that the platform restarts the process; until then /healthz and /readyz are false.
   */
  readonly failed: Promise<Error> = new Promise((resolve) => {
    this.onFatal = resolve;
  });
  /** Called when a partition stops: released on request (with its final checkpoint committed) or fenced. */
  onPartitionStopped: (partition: number, reason: 'released' | 'fenced' | 'failed') => void = () => {};

  constructor(private readonly deps: WorkerDeps) {
    this.log = deps.logger.child({ component: 'worker' });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.state !== 'new') throw new Error(`worker cannot start from ${this.state}`);
    this.state = 'starting';
    signal.addEventListener('abort', () => void this.close(), { once: true });
    await this.deps.store.migrate();
    await this.deps.bus.ensureStream(CANDLES_STREAM);
    await this.deps.bus.ensureStream(ALERTS_STREAM);
    this.consumerLoop = this.consume(this.controller.signal);
    // Each partition ticks once per tickMs, the partitions spread over TICK_SLICES steps of it: a
    // live tick (watermark sweep, the partials held back, their encoding and sends) takes
    // milliseconds a partition, and all of them in one turn held everything else, fetches
    // included (docs/BENCHMARKS.md, worker, fifth round).
    let slice = 0;
    this.ticker = setInterval(
      () => {
        for (const r of this.running.values()) if (r.runner.partition % TICK_SLICES === slice) r.runner.tick();
        slice = (slice + 1) % TICK_SLICES;
      },
      Math.max(1, Math.round(this.deps.config.tickMs / TICK_SLICES)),
    );
    this.retention = setInterval(() => void this.applyRetention(), this.deps.config.retentionEveryMs);
    this.retention.unref();
    this.state = 'running';
    this.log.info({ topic: this.deps.config.topic }, 'worker started');
  }

  /** Liveness: false once a partition or the consumer failed for good (see `failed`). */
  healthy(): boolean {
    return this.fatal === undefined;
  }

  /** Why the worker is not ready, or undefined when it is. */
  notReadyReason(): string | undefined {
    if (this.fatal) return this.fatal.message;
    if (this.state !== 'running') return this.state;
    for (const [p, r] of this.running) {
      const problem = r.runner.problem;
      if (problem) return `partition ${p} cannot commit: ${problem}`;
    }
    return this.lastError;
  }

  partitions(): Map<number, number> {
    return new Map([...this.running].map(([p, r]) => [p, r.epoch]));
  }

  /** The end offsets of the topic's partitions as the broker gave them at `at`, for those running here. */
  observeEndOffsets(at: number, ends: ReadonlyMap<number, bigint>): void {
    for (const [p, r] of this.running) {
      const end = ends.get(p);
      if (end !== undefined) r.runner.observeEnd(at, end);
    }
  }

  /** Each running partition with its epoch, measured input rate, lag and pause state, as of `now`. */
  partitionLoads(now: number): Array<{ partition: number; epoch: number; paused: boolean } & PartitionLoad> {
    return [...this.running].map(([partition, r]) => ({
      partition,
      epoch: r.epoch,
      paused: r.runner.isPaused,
      ...r.runner.load(now),
    }));
  }

  /**
   * Starts running `partition` at `epoch` from its last checkpoint; resolves with the offset it
   * resumes from. FencedError when a newer epoch holds it.
   */
  async assign(partition: number, epoch: number): Promise<bigint> {
    const current = this.running.get(partition);
    if (current && current.epoch === epoch) return current.runner.committed;
    if (current) await this.release(partition);
    const { deps } = this;
    const outputs = new PartitionOutputs({
      bus: deps.bus,
      cache: deps.cache,
      producer: deps.producer,
      topics: deps.config.outputTopics,
      logger: this.log,
      metrics: deps.metrics,
      clock: deps.clock,
      liveCacheIntervalMs: deps.config.liveCacheIntervalMs,
      ...(deps.tracer ? { tracer: deps.tracer } : {}),
    });
    const runner = await PartitionRunner.open({
      topic: deps.config.topic,
      partition,
      epoch,
      actors: deps.actors,
      store: deps.store,
      outputs,
      logger: this.log,
      metrics: deps.metrics,
      clock: deps.clock,
      config: deps.config.partition,
      ...(deps.tracer ? { tracer: deps.tracer } : {}),
      flow: {
        pause: () => deps.consumer.pause(partition),
        resume: () => deps.consumer.resume(partition),
      },
      ...(deps.companion ? { onCommitted: (c: readonly Candle[]) => deps.companion?.committed(partition, c) } : {}),
    });
    await deps.companion?.assign(partition, epoch);
    await deps.consumer.assign(partition, runner.offset);
    const done = runner.run(this.controller.signal).then(
      () => this.finished(partition, runner, 'released'),
      (err: unknown) => {
        if (err instanceof FencedError && runner.isStopping) {
          // release() stopped waiting for the final checkpoint and the new owner claimed first:
          // it resumes from the checkpoint before, and the rows of this one are its to commit.
          this.log.info({ partition, epoch }, 'final checkpoint fenced: the new owner claimed first');
          this.finished(partition, runner, 'released');
        } else if (err instanceof FencedError) {
          this.log.warn({ partition, epoch, err }, 'partition fenced by a newer owner');
          this.finished(partition, runner, 'fenced');
        } else if (!this.controller.signal.aborted) {
          this.lastError = `partition ${partition} failed: ${String(err)}`;
          this.log.error({ partition, epoch, err }, 'partition failed');
          deps.metrics.partitionFailures.inc({ partition: String(partition) });
          this.fail(new Error(this.lastError, { cause: err }));
          this.finished(partition, runner, 'failed');
        }
      },
    );
    this.running.set(partition, { runner, epoch, done });
    deps.metrics.owned.set(this.running.size);
    return runner.committed;
  }

  /**
   * Stops reading `partition` and commits its final checkpoint at the last record processed;
   * records fetched but not processed yet are left to whoever runs the partition next (they are
   * past the checkpoint's offset). Resolves once that checkpoint is committed, or after `waitMs`
   * at most: a partition that is catching up can have a checkpoint's worth of outputs still to
   * store, and the next owner need not wait for them. Past the wait the run is abandoned: it starts
   * no more commits, and the next owner resumes from the last committed checkpoint, redoing the
   * records after it (every output is idempotent). A commit already under way either lands before
   * the next owner's claim or is fenced by it. Resolves with undefined when the partition was not
   * running here.
   */
  async release(partition: number, waitMs = Number.POSITIVE_INFINITY): Promise<Released | undefined> {
    const current = this.running.get(partition);
    if (!current) return undefined;
    await this.deps.consumer.unassign(partition);
    const { runner } = current;
    runner.stop({ discardQueued: true });
    let timer: NodeJS.Timeout | undefined;
    const finished = await (Number.isFinite(waitMs)
      ? Promise.race([
          current.done.then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => {
              runner.abandon();
              resolve(false);
            }, waitMs);
          }),
        ]).finally(() => clearTimeout(timer))
      : current.done.then(() => true));
    return {
      processed: runner.offset,
      committed: finished && runner.committed === runner.offset ? runner.committed : undefined,
    };
  }

  async drain(): Promise<void> {
    if (this.state === 'closed' || this.state === 'draining') return;
    this.state = 'draining';
    clearInterval(this.ticker);
    const all = Promise.all([...this.running.keys()].map((p) => this.release(p)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DrainTimeoutError(`drain did not finish in ${this.deps.config.drainTimeoutMs} ms`)),
        this.deps.config.drainTimeoutMs,
      );
    });
    try {
      await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.ticker);
    clearInterval(this.retention);
    this.controller.abort(new Error('worker closed'));
    for (const r of this.running.values()) r.runner.stop();
    await this.consumerLoop?.catch(() => {});
  }

  private fail(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    this.onFatal(err);
  }

  private finished(partition: number, runner: PartitionRunner, reason: 'released' | 'fenced' | 'failed'): void {
    const current = this.running.get(partition)?.runner === runner;
    if (current) this.running.delete(partition);
    if (reason !== 'released') void this.deps.consumer.unassign(partition).catch(() => {});
    this.deps.metrics.owned.set(this.running.size);
    if (current) void this.deps.companion?.release(partition);
    // How the end of the run went (the wait for the checkpoint in flight, the final settle and commit).
    this.log.info({ partition, reason, ...runner.lastStop }, 'partition stopped');
    this.onPartitionStopped(partition, reason);
  }

  /** Deletes candles past their interval's retention; idempotent, so every worker may run it. */
  private async applyRetention(): Promise<void> {
    try {
      const result = await this.deps.store.applyRetention(this.deps.config.retention, this.deps.clock());
      this.log.info(
        {
          deleted: result.deleted,
          indicatorsDeleted: result.indicatorsDeleted,
          dropped: result.droppedPartitions,
          alertsDeleted: result.alertsDeleted,
          predictionsDeleted: result.predictionsDeleted,
        },
        'retention applied',
      );
    } catch (err) {
      this.log.warn({ err }, 'retention failed; retried at the next interval');
    }
  }

  private async consume(signal: AbortSignal): Promise<void> {
    try {
      for await (const batch of this.deps.consumer.batches(signal)) {
        const r = this.running.get(batch.partition);
        if (r) await r.runner.enqueue(batch, signal);
      }
    } catch (err) {
      if (!signal.aborted) {
        this.lastError = `consumer failed: ${String(err)}`;
        this.log.error({ err }, 'consumer failed');
        this.fail(new Error(this.lastError, { cause: err }));
      }
    }
  }
}

/** Makes a Worker: components are made by their create* factory, never with `new` outside their file. */
export function createWorker(deps: WorkerDeps): Worker {
  return new Worker(deps);
}
