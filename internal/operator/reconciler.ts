import { setTimeout as sleepOrAbort } from 'node:timers/promises';
import type { Logger } from '../observe/logger.js';
import { FencedError, isRetriable } from '../runtime/errors.js';
import type { OperatorMetrics } from './metrics.js';
import {
  emptyPlacement,
  imbalance,
  type Placement,
  type PlacementOptions,
  type PlacementResult,
  partitionWeights,
  place,
} from './placement.js';
import { fromDocument, type PlacementDocument, toDocument } from './placement-document.js';
import type { ObjectRef, PlacementMirror, PlacementStore, RebalanceEvent } from './publication.js';

/**
 * The leader's loop: on a membership or load change (debounced), compute the placement, publish it
 * (ConfigMap first, then the mirrors the workers watch, then an Event), and, while moves are held
 * back by the rate limit, run further rounds every `roundIntervalMs` until the placement settles.
 *
 * It runs only while leading: run(signal) is what the Lease's onStartedLeading starts, and the
 * signal aborts when leadership ends. A FencedError from the store (another operator wrote the
 * placement) ends run() with that error, which makes the elector step down.
 */
export interface ReconcilerDeps {
  readonly store: PlacementStore;
  readonly mirrors?: readonly PlacementMirror[];
  readonly events?: {
    readonly on: () => Promise<ObjectRef>;
    readonly recorder: { rebalanced(on: ObjectRef, event: RebalanceEvent): Promise<void> };
  };
  /** Current members (sorted or not). */
  readonly members: () => readonly string[];
  /** Measured load per partition; absent: every partition weighs the same. */
  readonly load?: () => ReadonlyMap<number, number> | undefined;
  readonly partitionCount: number;
  readonly options: PlacementOptions;
  readonly identity: string;
  readonly logger: Logger;
  readonly metrics: OperatorMetrics;
  /** Changes arriving within this window are handled in one round. Default 100 ms. */
  readonly debounceMs?: number;
  /** Pause between rate-limited rounds. Default 1,000 ms. */
  readonly roundIntervalMs?: number;
  /**
   * A partition this leader moved less than this long ago is not moved again for load (its rate is
   * still being measured at the new owner, from a first sample). Default 60,000 ms.
   */
  readonly loadMoveCooldownMs?: number;
  /** Retry pause after a failed publication. Default 1,000 ms. */
  readonly retryMs?: number;
  readonly now?: () => number;
}

export interface Reconciler {
  /** Reads the last placement, then reconciles until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
  /** Something changed (membership, load): reconcile soon. `at` is when the change happened. */
  notify(trigger: string, at?: number): void;
  /** The placement last published by this replica (null before the first). */
  current(): PlacementDocument | null;
}

/** Sleeps `ms` or until `signal` aborts; never rejects. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return sleepOrAbort(ms, undefined, { signal }).catch(() => undefined);
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const log = deps.logger.child({ component: 'reconciler' });
  const now = deps.now ?? Date.now;
  const debounceMs = deps.debounceMs ?? 100;
  const roundIntervalMs = deps.roundIntervalMs ?? 1_000;
  const retryMs = deps.retryMs ?? 1_000;
  const cooldownMs = deps.loadMoveCooldownMs ?? 60_000;
  const { metrics } = deps;
  /** When this leader last moved each partition. */
  const movedAt = new Map<number, number>();

  /** The partitions moved within the cooldown: load moves leave them where they are. */
  function pinned(): Set<number> {
    const out = new Set<number>();
    for (const [p, at] of movedAt) {
      if (now() - at < cooldownMs) out.add(p);
      else movedAt.delete(p);
    }
    return out;
  }

  let wake: (() => void) | null = null;
  let pendingSince: number | null = null;
  let triggers = new Set<string>();
  let published: PlacementDocument | null = null;

  function notify(trigger: string, at: number = now()): void {
    triggers.add(trigger);
    pendingSince = pendingSince === null ? at : Math.min(pendingSince, at);
    wake?.();
  }

  /** Resolves after `ms`, on notify(), or on abort, whichever is first (ms = Infinity: no timer). */
  function waitFor(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        wake = null;
        resolve();
      }
      wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async function readCurrent(signal: AbortSignal): Promise<Placement> {
    for (;;) {
      try {
        const doc = await deps.store.read();
        if (doc) log.info({ version: doc.version, epoch: doc.epoch }, 'placement loaded');
        return doc ? fromDocument(doc) : emptyPlacement(deps.partitionCount);
      } catch (err) {
        if (!isRetriable(err) || signal.aborted) throw err;
        log.warn({ err }, 'reading the placement failed; retrying');
        await waitFor(retryMs, signal);
      }
    }
  }

  /** Mirrors `doc`; false when a mirror failed (retried on the next round). */
  async function mirror(doc: PlacementDocument): Promise<boolean> {
    let ok = true;
    for (const m of deps.mirrors ?? []) {
      try {
        await m.publish(doc);
      } catch (err) {
        ok = false;
        metrics.publishErrors.inc({ target: 'mirror' });
        log.warn({ err, version: doc.version }, 'mirroring the placement failed; retrying');
      }
    }
    return ok;
  }

  async function recordEvent(doc: PlacementDocument, result: PlacementResult, trigger: string): Promise<void> {
    if (result.moves.length === 0 || !deps.events) return;
    try {
      await deps.events.recorder.rebalanced(await deps.events.on(), { doc, moves: result.moves, trigger });
    } catch (err) {
      metrics.publishErrors.inc({ target: 'event' });
      log.warn({ err }, 'recording the rebalance event failed');
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    let placement = await readCurrent(signal);
    // A new leader republishes what it found, so that mirrors left behind by a predecessor that died
    // between the ConfigMap and the mirrors catch up.
    let mirrorsStale = true;
    let settleFrom: number | null = null;
    let nextRoundAt: number | null = null;
    notify('leader');
    while (!signal.aborted) {
      if (pendingSince === null) {
        const due = nextRoundAt ?? Number.POSITIVE_INFINITY;
        if (now() < due) {
          await waitFor(due - now(), signal);
          continue;
        }
      } else if (debounceMs > 0) {
        // Let a burst of changes (a scale-up makes pods Ready one by one) land in one round.
        await sleep(debounceMs, signal);
      }
      if (signal.aborted) break;

      const changedAt = pendingSince;
      const trigger = [...triggers].sort().join(',') || 'round';
      pendingSince = null;
      triggers = new Set();
      nextRoundAt = null;

      const members = deps.members();
      const load = deps.load?.();
      const result = place({
        current: placement,
        partitionCount: deps.partitionCount,
        members,
        load,
        pinned: pinned(),
        options: deps.options,
      });
      const changed = result.placement.version !== placement.version;
      if (changed || mirrorsStale) {
        const doc = toDocument(result.placement, { publishedBy: deps.identity, publishedAt: new Date(now()) });
        if (changed) {
          try {
            await deps.store.write(doc);
          } catch (err) {
            if (err instanceof FencedError) {
              log.error({ err }, 'placement written by someone else; giving up leadership');
              throw err;
            }
            metrics.publishErrors.inc({ target: 'configmap' });
            log.warn({ err }, 'publishing the placement failed; retrying');
            // Not handled yet: keep the change's time for the latency metrics and retry.
            if (changedAt !== null) notify(trigger, changedAt);
            nextRoundAt = now() + retryMs;
            await sleep(retryMs, signal);
            continue;
          }
          log.info(
            { version: doc.version, epoch: doc.epoch, members: members.length, moves: result.moves.length, trigger },
            'placement published',
          );
        }
        placement = result.placement;
        published = doc;
        for (const m of result.moves) movedAt.set(m.partition, now());
        mirrorsStale = !(await mirror(doc));
        if (changed) await recordEvent(doc, result, trigger);
      }

      const shape = imbalance(result.placement, partitionWeights(deps.partitionCount, load));
      metrics.members.set(members.length);
      metrics.countSpread.set(shape.countSpread);
      metrics.loadRatio.set(shape.loadRatio);
      metrics.epoch.set(result.placement.epoch);
      metrics.version.set(result.placement.version);
      if (result.moves.length > 0) {
        metrics.rebalances.inc({ trigger });
        for (const m of result.moves) metrics.partitionsMoved.inc({ reason: m.reason });
      }
      // A periodic load check that changed nothing is not a change to settle: it would bury the
      // settle times of real changes under zeros.
      const quiet = !changed && trigger === 'load';
      if (changedAt !== null && !quiet) {
        if (changed) metrics.publishSeconds.observe(Math.max(0, now() - changedAt) / 1000);
        settleFrom = settleFrom === null ? changedAt : Math.min(settleFrom, changedAt);
      }
      if (result.settled || members.length === 0) {
        if (settleFrom !== null) metrics.settleSeconds.observe(Math.max(0, now() - settleFrom) / 1000);
        settleFrom = null;
      } else {
        nextRoundAt = now() + roundIntervalMs;
      }
      if (mirrorsStale) nextRoundAt = Math.min(nextRoundAt ?? Number.POSITIVE_INFINITY, now() + retryMs);
    }
  }

  return { run, notify, current: () => published };
}
