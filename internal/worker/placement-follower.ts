import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';
import type { Bus, KvBucket } from '../bus/bus.js';
import { PLACEMENT_BUCKET, RELEASE_KEYS, releaseKey, watchPlacement } from '../operator/kv-placement.js';
import { assignmentFor, type PlacementDocument } from '../operator/placement-document.js';
import type { Component } from '../runtime/component.js';
import { FencedError, UnavailableError } from '../runtime/errors.js';
import { retry } from '../runtime/retry.js';
import { ANNOUNCE_RETRY, CLAIM_RETRY, REWATCH } from '../runtime/retry-policies.js';
import type { Worker } from './worker.js';

/**
 * What the old owner of a partition announces once it has stopped taking records and its final
 * checkpoint is committed, or once it stopped waiting for that commit (`nextOffset` null).
 */
export interface ReleaseAnnouncement {
  readonly partition: number;
  readonly releasedBy: string;
  /** The epoch of the placement that moved the partition away: the new owner's epoch. */
  readonly forEpoch: number;
  /** The committed final checkpoint's offset; null when the old owner stopped waiting for it. */
  readonly nextOffset: string | null;
  /** The offset after the last record the old owner processed (the new owner redoes from its claimed checkpoint up to here). */
  readonly processedOffset: string | null;
  /** When the old owner stopped taking records of the partition, Unix epoch ms. */
  readonly stoppedAt: number;
  readonly releasedAt: number;
}

export interface PlacementFollowerDeps {
  readonly worker: Worker;
  readonly bus: Bus;
  readonly bucket?: string;
  /** This worker's member name: its pod name. */
  readonly self: string;
  readonly logger: Logger;
  readonly registry: Registry;
  /** How long a new owner waits for a live previous owner's release before it claims anyway. */
  readonly handoffWaitMs: number;
  /**
   * How long the old owner waits for a moved partition's final checkpoint before it announces the
   * release anyway and gives the partition up (Worker.release): the new owner resumes from the last
   * committed checkpoint. Infinity waits for it always.
   */
  readonly releaseWaitMs: number;
  /**
   * The other workers' heartbeats (internal/operator/liveness.ts). With them, a new owner also waits
   * for a previous owner that is no longer a member but still beats (its pod is being deleted and
   * it is handing its partitions off), and stops waiting as soon as the previous owner falls
   * silent. Without them, only a member is waited for.
   */
  readonly peers?: { silentForMs(member: string): number };
  /** A peer silent for longer than this is taken for dead. Default 1,000 ms (two missed beats). */
  readonly peerTimeoutMs?: number;
  readonly clock: () => number;
  /** Called with the members of every applied placement (index actors hash assets over them). */
  readonly onMembers?: (members: readonly string[]) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The worker side of placement and handoff (docs/OPERATOR.md). It watches the placement the
 * operator publishes in the KV bucket and, for each newer document:
 * - releases what moved away: stop reading, commit a final checkpoint, announce `release.<p>`;
 * - acquires what moved here: waits (bounded) for the previous owner's announcement when that
 *   owner is still a member, then claims the partition at the new epoch, which fences the old
 *   owner whatever it does next, and resumes from the last checkpoint;
 * - leaves every other partition running untouched.
 */
export interface PlacementFollower extends Component {
  readonly placement: PlacementDocument | null;
  /**
   * A stopping worker (SIGTERM: its pod is being deleted, so it is no longer a member) keeps
   * following the placement until the operator has moved all its partitions away, so that each one
   * is handed off with a final checkpoint and a release the new owner is waiting for; at most
   * `timeoutMs` (default `handoffWaitMs`: the operator may be down, or the pod still Ready).
   * Whatever is left is for Worker.drain() to release.
   */
  drain(timeoutMs?: number): Promise<void>;
}

export function createPlacementFollower(deps: PlacementFollowerDeps): PlacementFollower {
  return new Follower(deps);
}

class Follower implements PlacementFollower {
  private applied: PlacementDocument | null = null;
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private releaseLoop: Promise<void> | undefined;
  /** The newest release announcement of each partition, from the one watch on `release.>`. */
  private readonly releases = new Map<number, ReleaseAnnouncement>();
  /** Called on every announcement heard: the waits of waitForRelease. */
  private readonly releaseListeners = new Set<() => void>();
  private readonly pause: Histogram;
  private readonly takeover: Histogram;

  constructor(private readonly deps: PlacementFollowerDeps) {
    const buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    this.pause = new Histogram({
      name: 'tickmesh_worker_handoff_pause_seconds',
      help: 'A moved partition: from its old owner stopping to this worker running it',
      buckets,
      registers: [deps.registry],
    });
    this.takeover = new Histogram({
      name: 'tickmesh_worker_takeover_seconds',
      help: 'A partition acquired here: from the placement publication to running it',
      labelNames: ['kind'],
      buckets,
      registers: [deps.registry],
    });
  }

  get placement(): PlacementDocument | null {
    return this.applied;
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.controller.abort(), { once: true });
    // The operator makes the bucket (a worker's NATS user may not: deploy/nats/tickmesh-accounts.conf).
    const bucket = await retry(() => this.deps.bus.kv(this.deps.bucket ?? PLACEMENT_BUCKET, { create: false }), {
      ...REWATCH,
      signal: this.controller.signal,
      onRetry: (err) => this.deps.logger.warn({ err }, 'no placement bucket yet; waiting for the operator'),
    });
    this.releaseLoop = this.followReleases(bucket);
    // The follower outlives a broken watch (NATS down, a failed put or claim): it watches again,
    // and the diff against the last applied document picks up whatever it missed.
    const { signal: stop } = this.controller;
    this.loop = retry(
      async () => {
        for await (const doc of watchPlacement(bucket, stop, this.deps.logger)) {
          if (this.applied && doc.version <= this.applied.version) continue;
          await this.apply(bucket, doc);
        }
        throw new UnavailableError('the placement watch ended');
      },
      {
        ...REWATCH,
        signal: stop,
        retriable: () => !stop.aborted,
        onRetry: (err) => this.deps.logger.error({ err }, 'placement watch failed; watching again'),
      },
    ).catch(() => undefined);
  }

  async drain(timeoutMs: number = this.deps.handoffWaitMs): Promise<void> {
    const deadline = this.deps.clock() + timeoutMs;
    while (!this.controller.signal.aborted && this.deps.worker.partitions().size > 0 && this.deps.clock() < deadline) {
      await sleep(25);
    }
    const left = [...this.deps.worker.partitions().keys()];
    if (left.length > 0)
      this.deps.logger.warn({ partitions: left, timeoutMs }, 'stopping before the operator moved these');
    await this.close();
  }

  async close(): Promise<void> {
    this.controller.abort();
    await Promise.all([this.loop, this.releaseLoop]);
  }

  /**
   * Every release announcement, heard as it is put, for the follower's whole life. A new owner
   * then finds the release it waits for already here, or hears it with the next message: a watch
   * opened per handoff put a JetStream consumer's creation on the handoff's critical path
   * (docs/DEPLOY.md, the real-node test).
   */
  private async followReleases(bucket: KvBucket): Promise<void> {
    while (!this.controller.signal.aborted) {
      try {
        for await (const entry of bucket.watch({ key: RELEASE_KEYS, signal: this.controller.signal })) {
          if (entry.operation !== 'put') continue;
          let note: ReleaseAnnouncement;
          try {
            note = JSON.parse(decoder.decode(entry.value)) as ReleaseAnnouncement;
          } catch {
            // A malformed announcement is no announcement: the bounded wait and the fence still hold.
            continue;
          }
          if (!Number.isInteger(note.partition) || typeof note.forEpoch !== 'number') continue;
          const known = this.releases.get(note.partition);
          if (known && known.forEpoch > note.forEpoch) continue;
          this.releases.set(note.partition, note);
          for (const listener of this.releaseListeners) listener();
        }
      } catch (err) {
        if (!this.controller.signal.aborted) this.deps.logger.warn({ err }, 'release watch failed; watching again');
      }
      await sleep(1_000, this.controller.signal).catch(() => undefined);
    }
  }

  private async apply(bucket: KvBucket, doc: PlacementDocument): Promise<void> {
    const { worker, self, logger } = this.deps;
    const change = assignmentFor(this.applied, doc, self);
    this.applied = doc;
    this.deps.onMembers?.(doc.members);
    if (change.acquire.length + change.release.length === 0) return;
    logger.info(
      {
        version: doc.version,
        acquire: change.acquire.map((a) => a.partition),
        release: change.release.map((r) => r.partition),
        keep: change.keep.length,
      },
      'placement changed',
    );
    await Promise.all(
      change.release.map(async (r) => {
        const stoppedAt = this.deps.clock();
        const released = await worker.release(r.partition, this.deps.releaseWaitMs);
        const note: ReleaseAnnouncement = {
          partition: r.partition,
          releasedBy: self,
          forEpoch: r.epoch,
          nextOffset: released?.committed === undefined ? null : String(released.committed),
          processedOffset: released === undefined ? null : String(released.processed),
          stoppedAt,
          releasedAt: this.deps.clock(),
        };
        await this.announce(bucket, note);
        logger.info(
          {
            partition: r.partition,
            epoch: r.epoch,
            newOwner: r.newOwner,
            releaseMs: note.releasedAt - stoppedAt,
            committed: note.nextOffset !== null,
          },
          'partition released',
        );
      }),
    );
    const published = Date.parse(doc.publishedAt);
    await Promise.all(
      change.acquire.map(async (a) => {
        if (a.restart) await worker.release(a.partition);
        const startedAt = this.deps.clock();
        let note: ReleaseAnnouncement | undefined;
        if (a.previousOwner !== null && (a.previousOwnerIsMember || this.peerAlive(a.previousOwner))) {
          note = await this.waitForRelease(a.partition, a.epoch, a.previousOwner);
        }
        const claimFrom = this.deps.clock();
        const waitedMs = claimFrom - startedAt;
        let resumedAt: bigint;
        try {
          // The claim is idempotent at one epoch: retry while the store is unavailable.
          resumedAt = await retry(() => worker.assign(a.partition, a.epoch), {
            ...CLAIM_RETRY,
            signal: this.controller.signal,
            onRetry: (err, attempt) =>
              logger.warn({ err, partition: a.partition, attempt }, 'claiming the partition failed; retrying'),
          });
        } catch (err) {
          if (!(err instanceof FencedError)) throw err;
          logger.warn(
            { partition: a.partition, epoch: a.epoch },
            'placement outdated: a newer epoch holds the partition',
          );
          return;
        }
        const now = this.deps.clock();
        if (note) this.pause.observe((now - note.stoppedAt) / 1000);
        if (Number.isFinite(published)) {
          this.takeover.observe(
            { kind: a.previousOwner === null ? 'new' : a.previousOwnerIsMember ? 'handoff' : 'orphan' },
            (now - published) / 1000,
          );
        }
        logger.info(
          {
            partition: a.partition,
            epoch: a.epoch,
            previousOwner: a.previousOwner,
            released: note !== undefined,
            waitedMs,
            // Claim transaction, checkpoint and state restore, seek (and retries).
            claimMs: now - claimFrom,
            pauseMs: note ? now - note.stoppedAt : undefined,
            // Records the previous owner processed past the checkpoint resumed from: done again here.
            redo: note?.processedOffset ? Number(BigInt(note.processedOffset) - resumedAt) : undefined,
            sincePublishedMs: Number.isFinite(published) ? now - published : undefined,
          },
          'partition acquired',
        );
      }),
    );
  }

  /**
   * Puts the release announcement, retrying while the bus is unavailable, for as long as the new
   * owner would wait for it; past that the new owner has claimed anyway (and the epoch fences).
   */
  private async announce(bucket: KvBucket, note: ReleaseAnnouncement): Promise<void> {
    const deadline = this.deps.clock() + this.deps.handoffWaitMs;
    try {
      // No signal: a follower closing while it released still puts the announcement once.
      await retry(() => bucket.put(releaseKey(note.partition), encoder.encode(JSON.stringify(note))), {
        ...ANNOUNCE_RETRY,
        retriable: () => !this.controller.signal.aborted && this.deps.clock() < deadline,
      });
    } catch (err) {
      this.deps.logger.warn({ err, partition: note.partition }, 'release not announced');
    }
  }

  private peerAlive(member: string): boolean {
    const { peers } = this.deps;
    return peers !== undefined && peers.silentForMs(member) <= (this.deps.peerTimeoutMs ?? 1_000);
  }

  /**
   * The previous owner's announcement for `epoch`, or undefined after the bounded wait, or as soon
   * as the previous owner is found silent (dead: no release will come).
   */
  private async waitForRelease(
    partition: number,
    epoch: number,
    previousOwner: string,
  ): Promise<ReleaseAnnouncement | undefined> {
    const silent = new AbortController();
    const watchdog = this.deps.peers
      ? setInterval(() => {
          if (!this.peerAlive(previousOwner)) silent.abort();
        }, 50)
      : undefined;
    const wait = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.deps.handoffWaitMs), silent.signal]);
    const heard = (): ReleaseAnnouncement | undefined => {
      const note = this.releases.get(partition);
      return note && note.forEpoch >= epoch ? note : undefined;
    };
    let listener: (() => void) | undefined;
    try {
      const note =
        heard() ??
        (await new Promise<ReleaseAnnouncement | undefined>((resolve) => {
          listener = () => {
            const n = heard();
            if (n || wait.aborted) resolve(n);
          };
          this.releaseListeners.add(listener);
          wait.addEventListener('abort', listener, { once: true });
          if (wait.aborted) listener();
        }));
      if (note) return note;
    } finally {
      if (listener) {
        this.releaseListeners.delete(listener);
        wait.removeEventListener('abort', listener);
      }
      clearInterval(watchdog);
    }
    this.deps.logger.warn(
      { partition, epoch, previousOwner, silent: silent.signal.aborted, handoffWaitMs: this.deps.handoffWaitMs },
      'no release from the previous owner',
    );
    return undefined;
  }
}
