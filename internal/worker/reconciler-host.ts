import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import {
  CANDLES_STREAM,
  candleMsgId,
  candleSubject,
  VERIFICATIONS_STREAM,
  verificationSubject,
} from '../bus/subject-names.js';
import type { LogConsumer, RecordBatch } from '../log/log.js';
import { partitionForKey } from '../log/partitioner.js';
import type { Candle } from '../market/candle.js';
import { candleUpdateJson } from '../market/candle-json.js';
import type { Interval } from '../market/interval.js';
import type { Component } from '../runtime/component.js';
import { FencedError, isRetriable } from '../runtime/errors.js';
import { retry } from '../runtime/retry.js';
import { CLAIM_RETRY, COMMIT_RETRY } from '../runtime/retry-policies.js';
import type { Store } from '../sink/store.js';
import type { JudgedCandle } from '../sink/verification-store.js';
import { decodeKlineRecord } from '../verify/kline-record.js';
import { type CandleVerification, type VerificationEvent, verificationEventOf } from '../verify/verification.js';
import type { PartitionCompanion } from './partition-companion.js';
import { ReconcilerPartition } from './reconciler-partition.js';
import { decodeReconcilerState } from './reconciler-state.js';
import type { VerificationMetrics } from './verification-metrics.js';

export interface ReconcilerHostConfig {
  /** The klines topic (KLINES_TOPIC): partition n holds the klines of the markets of the trades' partition n. */
  readonly topic: string;
  /** Partitions of the trades topic (and of the klines topic). */
  readonly partitions: number;
  readonly intervals: readonly Interval[];
  /** How long after tickmesh closed a candle the venue's final kline may take before `unverifiable`. */
  readonly waitMs: number;
  /** For a venue that does not mark its final push: how long after the window's end its latest push is final. */
  readonly settleMs: number;
  readonly maxWindows: number;
  /** Judgements and the klines checkpoint are committed at most this often per partition. */
  readonly commitIntervalMs: number;
  readonly tickMs: number;
  /** At a claim, the unjudged candles this far back from each series' newest are read back from the store. */
  readonly horizonMs: number;
}

export interface ReconcilerHostDeps {
  /** A consumer of the klines topic. */
  readonly consumer: LogConsumer;
  readonly store: Pick<Store, 'claim' | 'markets' | 'commitVerifications' | 'unverifiedCandles'>;
  readonly bus: Pick<Bus, 'ensureStream' | 'publishDurable'>;
  readonly logger: Logger;
  readonly metrics: VerificationMetrics;
  readonly clock: () => number;
  readonly config: ReconcilerHostConfig;
}

interface Placed {
  readonly epoch: number;
  readonly core: ReconcilerPartition;
  /** Set once the klines checkpoint is claimed and the consumer reads from its offset. */
  ready: boolean;
  lastCommitAt: number;
  committing: Promise<void> | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A judged candle as a candle update (`key` first, then the candle) with its `verification` last. */
function judgedCandlePayload(c: JudgedCandle): Uint8Array {
  const json = candleUpdateJson(c);
  return Buffer.from(`${json.slice(0, -1)},"verification":${JSON.stringify(c.verification)}}`, 'utf8');
}

/** What makes a judgement of a revision distinct: its status and a hash of its differences. */
function judgementId(v: CandleVerification): string {
  const differences = createHash('sha256')
    .update(JSON.stringify(v.differences ?? []))
    .digest('hex')
    .slice(0, 16);
  return `${v.status}:${differences}`;
}

/** A judgement's stream message id: one per candle revision and judgement, whoever makes it. */
function messageId(v: VerificationEvent): string {
  return `${v.exchange}:${v.symbol}:${v.interval}:${v.openTime}#${v.revision}:${judgementId(v)}`;
}

/**
 * The live reconcilers of the partitions this worker runs, beside their market actors: for each
 * placed partition it reads the same partition of the klines topic, feeds the venues' kline
 * pushes and the candles the partition's checkpoints committed into one Reconciler per venue
 * (reconciler-partition.ts), ticks them on the worker's clock, and writes each judgement into
 * its candle's row, then publishes it (verificationSubject, at least once).
 *
 * Exactly once where it matters: the judgements made from the klines up to an offset are
 * committed with that offset and the pushes of the windows not yet judged (the klines
 * partition's checkpoint, fenced by the placement epoch), and a judgement lands only on the
 * revision it judged (verification-store.ts). A claim (a restart, a moved partition) starts
 * from that checkpoint: its pushes back, the candles committed and not yet judged read back
 * from the store, the klines read on from its offset; so a candle closed before a SIGKILL is
 * still judged, by the kline that came before or after it. Writes are idempotent.
 */
export class ReconcilerHost implements Component, PartitionCompanion {
  private readonly placed = new Map<number, Placed>();
  private readonly controller = new AbortController();
  private readonly releases = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly deps: ReconcilerHostDeps) {
    this.log = deps.logger.child({ component: 'reconciler-host', topic: deps.config.topic });
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => void this.close(), { once: true });
    await this.deps.bus.ensureStream(VERIFICATIONS_STREAM);
    await this.deps.bus.ensureStream(CANDLES_STREAM);
    this.loop = this.consume(this.controller.signal);
    this.ticker = setInterval(() => this.tick(), this.deps.config.tickMs);
  }

  async assign(partition: number, epoch: number): Promise<void> {
    const current = this.placed.get(partition);
    if (current?.epoch === epoch) return;
    if (current) await this.release(partition);
    const { config } = this.deps;
    const core = new ReconcilerPartition(partition, config, 0n);
    const p: Placed = { epoch, core, ready: false, lastCommitAt: this.deps.clock(), committing: undefined };
    // Placed before the first await: candles the partition commits meanwhile are not missed.
    this.placed.set(partition, p);
    try {
      const signal = this.controller.signal;
      const checkpoint = await retry(() => this.deps.store.claim(config.topic, partition, epoch), {
        ...CLAIM_RETRY,
        signal,
      });
      const now = this.deps.clock();
      core.nextOffset = checkpoint?.nextOffset ?? 0n;
      const pushes = checkpoint ? decodeReconcilerState(checkpoint.state) : [];
      for (const r of pushes) core.push(r, now);
      const markets = (await this.deps.store.markets()).filter(
        (m) => partitionForKey(`${m.exchange}:${m.symbol}`, config.partitions) === partition,
      );
      const unjudged = await this.deps.store.unverifiedCandles({
        markets,
        intervals: config.intervals,
        horizonMs: config.horizonMs,
        limit: config.maxWindows * Math.max(1, markets.length) * config.intervals.length,
      });
      core.candles(unjudged, now);
      if (this.placed.get(partition) !== p) return;
      await this.deps.consumer.assign(partition, core.nextOffset);
      p.ready = true;
      this.log.info(
        { partition, epoch, nextOffset: String(core.nextOffset), pushes: pushes.length, unjudged: unjudged.length },
        'klines partition opened',
      );
    } catch (err) {
      if (this.placed.get(partition) === p) this.placed.delete(partition);
      if (!this.controller.signal.aborted) {
        this.log.error({ err, partition, epoch }, 'klines partition not opened; its candles are not verified here');
      }
    }
  }

  async release(partition: number): Promise<void> {
    const p = this.placed.get(partition);
    if (!p) return;
    this.placed.delete(partition);
    const done = (async () => {
      try {
        if (p.ready) await this.deps.consumer.unassign(partition);
        await p.committing;
        if (p.ready && p.core.dirty) await this.commit(p);
      } catch (err) {
        this.log.warn({ err, partition }, 'final verification commit failed; the next owner judges again');
      }
    })();
    this.releases.add(done);
    await done.finally(() => this.releases.delete(done));
  }

  committed(partition: number, candles: readonly Candle[]): void {
    const p = this.placed.get(partition);
    if (p && candles.length > 0) p.core.candles(candles, this.deps.clock());
  }

  /** Releases every partition, committing what each judged. */
  async drain(): Promise<void> {
    await Promise.all([...this.placed.keys()].map((p) => this.release(p)));
    await this.close();
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    this.controller.abort();
    await this.loop?.catch(() => {});
    await Promise.allSettled([...this.releases]);
  }

  private tick(): void {
    const now = this.deps.clock();
    for (const p of this.placed.values()) {
      p.core.tick(now);
      for (const [exchange, n] of p.core.takeDropped()) this.deps.metrics.droppedPushes.inc({ exchange }, n);
      if (
        p.ready &&
        p.committing === undefined &&
        p.core.dirty &&
        now - p.lastCommitAt >= this.deps.config.commitIntervalMs
      ) {
        p.committing = this.commit(p)
          .catch((err: unknown) => {
            if (err instanceof FencedError) {
              this.log.warn({ err, partition: p.core.partition }, 'klines partition fenced by a newer owner');
              if (this.placed.get(p.core.partition) === p) this.placed.delete(p.core.partition);
            } else if (!this.controller.signal.aborted) {
              this.log.error({ err, partition: p.core.partition }, 'verification commit failed');
            }
          })
          .finally(() => {
            p.committing = undefined;
          });
      }
    }
  }

  /** Commits what the partition judged with its klines checkpoint (retried while the store is away), then publishes it. */
  private async commit(p: Placed): Promise<void> {
    const captured = p.core.take();
    let changed: JudgedCandle[];
    try {
      changed = await retry(
        () =>
          this.deps.store.commitVerifications({
            topic: this.deps.config.topic,
            partition: p.core.partition,
            epoch: p.epoch,
            ...captured,
          }),
        {
          ...COMMIT_RETRY,
          signal: this.controller.signal,
          onRetry: (err, attempt) => {
            this.deps.metrics.commitErrors.inc();
            if (attempt === 1)
              this.log.warn({ err, partition: p.core.partition }, 'verification commit failed, retrying');
          },
        },
      );
    } catch (err) {
      if (!(err instanceof FencedError) && isRetriable(err)) p.core.untake(captured);
      throw err;
    }
    p.lastCommitAt = this.deps.clock();
    for (const judged of changed) {
      const v = verificationEventOf(judged);
      this.deps.metrics.verifications.inc({ exchange: v.exchange, interval: v.interval, status: v.status });
      if (v.status === 'mismatch') {
        this.log.warn(
          {
            exchange: v.exchange,
            symbol: v.symbol,
            interval: v.interval,
            openTime: v.openTime,
            differences: v.differences,
          },
          'candle differs from the venue',
        );
      }
      this.deps.bus
        .publishDurable(verificationSubject(v), encoder.encode(JSON.stringify(v)), { msgId: messageId(v) })
        .catch((err: unknown) => this.log.warn({ err, openTime: v.openTime }, 'verification not published'));
      // The candle again, now carrying its judgement, where its subscribers already look: the
      // same revision, told apart from the first publication by `verification` (docs/API.md).
      this.deps.bus
        .publishDurable(candleSubject('closed', judged), judgedCandlePayload(judged), {
          msgId: `${candleMsgId(judged)}:${judgementId(judged.verification)}`,
        })
        .catch((err: unknown) => this.log.warn({ err, openTime: v.openTime }, 'judged candle not published'));
    }
  }

  private async consume(signal: AbortSignal): Promise<void> {
    try {
      for await (const batch of this.deps.consumer.batches(signal)) this.onBatch(batch);
    } catch (err) {
      if (!signal.aborted) this.log.error({ err }, 'klines consumer failed; candles are not verified');
    }
  }

  private onBatch(batch: RecordBatch): void {
    const p = this.placed.get(batch.partition);
    if (!p?.ready) return;
    const now = this.deps.clock();
    for (const record of batch.records) {
      const decoded = decodeKlineRecord(decoder.decode(record.value));
      if ('reject' in decoded) {
        this.deps.metrics.rejectedRecords.inc({ reason: 'undecodable' });
        this.log.warn(
          { partition: batch.partition, offset: String(record.offset), reason: decoded.reject },
          'kline record rejected',
        );
        if (record.offset >= p.core.nextOffset) p.core.nextOffset = record.offset + 1n;
        continue;
      }
      p.core.push(decoded.record, now, record.offset);
    }
  }
}

/** Makes a ReconcilerHost: components are made by their create* factory. */
export function createReconcilerHost(deps: ReconcilerHostDeps): ReconcilerHost {
  return new ReconcilerHost(deps);
}
