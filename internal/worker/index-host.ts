import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import {
  DEFAULT_INDEX_CONFIG,
  IndexActor,
  type IndexConfig,
  type IndexValue,
  type PriceUpdate,
} from '../actor/index-actor.js';
import type { Bus } from '../bus/bus.js';
import { alertSubject, indexSubject } from '../bus/subject-names.js';
import type { Alert } from '../market/alert.js';
import type { Component } from '../runtime/component.js';
import { isRetriable } from '../runtime/errors.js';
import { retry } from '../runtime/retry.js';
import { OUTPUT_RETRY } from '../runtime/retry-policies.js';
import type { Store } from '../sink/store.js';
import { alertPayload } from './outputs.js';

export interface IndexHostDeps {
  readonly bus: Bus;
  /** Where the index actors' alerts and divergence flags are committed (the `alerts` table). */
  readonly store: Pick<Store, 'commitIndex' | 'loadIndexState'>;
  readonly logger: Logger;
  readonly config?: IndexConfig;
  /** Whether this worker runs the index actor of `asset` (see ownerOf). */
  readonly owns: (asset: string) => boolean;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Rendezvous hashing of an asset over the workers: every worker computes the same owner from
 * the same member list, and a membership change moves only the assets of the member that came
 * or went.
 */
export function ownerOf(asset: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = '';
  for (const m of members) {
    const score = createHash('sha256').update(`${asset}\0${m}`).digest('hex');
    if (best === undefined || score > bestScore) {
      best = m;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The per-asset index actors this worker owns, talking to the market actors only over the bus:
 * they read `tickmesh.price.<asset>.>` (published by whichever worker runs each market) and
 * publish `tickmesh.index.<asset>` and divergence alerts. Their state rebuilds from live updates,
 * so a move loses at most the averaging history.
 *
 * Alerts are stored exactly once, as the market actors' are: an alert's id is a function of the
 * update that raised it, and it is committed together with the asset's divergence flags (the
 * state that decides the next alerts) before it is published on JetStream. A new owner of the
 * asset (a move, a restart) starts from the committed flags, so it does not raise again a
 * divergence that was stored; one that was not stored (the owner stopped mid-commit) is raised
 * again by the next owner when it sees it. A store outage is retried with backoff and holds up
 * the asset's updates, which the bounded subscription then drops oldest first (live data).
 *
 * Index values are conflated: the latest of each asset is published once per turn of the event
 * loop, not once per price update. Each price update is its own step of the subscription's
 * iterator, and the NATS client writes its buffer to the socket after each such step: one socket
 * write per price update was a large share of a live worker's NATS writes and CPU
 * (docs/BENCHMARKS.md). Alerts are not conflated.
 */
export class IndexHost implements Component {
  private readonly actors = new Map<string, IndexActor>();
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  /** Index values computed in this turn of the event loop, published by `publishIndexes`. */
  private readonly pending = new Map<string, IndexValue>();
  private publishScheduled = false;

  constructor(private readonly deps: IndexHostDeps) {}

  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.controller.abort(), { once: true });
    const sub = this.deps.bus.subscribe('tickmesh.price.>', { signal: this.controller.signal, capacity: 20_000 });
    this.loop = (async () => {
      for await (const msg of sub) {
        const asset = msg.subject.split('.')[2];
        if (asset === undefined) continue;
        if (!this.deps.owns(asset)) {
          this.actors.delete(asset);
          continue;
        }
        let update: PriceUpdate;
        try {
          update = JSON.parse(decoder.decode(msg.data)) as PriceUpdate;
        } catch {
          this.deps.logger.warn({ subject: msg.subject }, 'undecodable price update dropped');
          continue;
        }
        let actor = this.actors.get(asset);
        if (!actor) {
          actor = new IndexActor(asset, this.deps.config ?? DEFAULT_INDEX_CONFIG);
          const saved = await this.stored(() => this.deps.store.loadIndexState(asset), asset);
          if (saved) actor.restore(saved.diverging);
          this.actors.set(asset, actor);
        }
        const { index, alerts, divergingChanged } = actor.onPrice(update);
        if (index) this.conflate(asset, index);
        if (!divergingChanged && alerts.length === 0) continue;
        const state = { asset, diverging: actor.diverging() };
        await this.stored(() => this.deps.store.commitIndex(state, alerts), asset);
        this.publishAlerts(alerts);
      }
    })().catch((err: unknown) => {
      if (!this.controller.signal.aborted) this.deps.logger.error({ err }, 'index actors stopped');
    });
  }

  async drain(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.loop?.catch(() => {});
    this.publishIndexes();
  }

  /** Runs a store call, retrying while the store is away; a refusal is logged and yields undefined. */
  private async stored<T>(op: () => Promise<T>, asset: string): Promise<T | undefined> {
    try {
      return await retry(op, {
        ...OUTPUT_RETRY,
        signal: this.controller.signal,
        onRetry: (err, attempt) => {
          if (attempt === 1) this.deps.logger.warn({ err, asset }, 'index state not stored, retrying');
        },
      });
    } catch (err) {
      if (this.controller.signal.aborted) throw err;
      this.deps.logger.error({ err, asset, retriable: isRetriable(err) }, 'index state refused by the store');
      return undefined;
    }
  }

  private publishAlerts(alerts: readonly Alert[]): void {
    for (const a of alerts) {
      this.deps.bus
        .publishDurable(alertSubject(a), alertPayload(a), { msgId: a.id })
        .catch((err: unknown) => this.deps.logger.warn({ err, alert: a.id }, 'divergence alert not published'));
    }
  }

  private conflate(asset: string, index: IndexValue): void {
    this.pending.set(asset, index);
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    setImmediate(() => this.publishIndexes());
  }

  private publishIndexes(): void {
    this.publishScheduled = false;
    for (const [asset, index] of this.pending) {
      try {
        this.deps.bus.publish(indexSubject(asset), encoder.encode(JSON.stringify(index)));
      } catch (err) {
        // A live value: the next price update of the asset publishes a newer one.
        this.deps.logger.warn({ err, asset }, 'index value not published');
      }
    }
    this.pending.clear();
  }
}

/** Makes a IndexHost: components are made by their create* factory, never with `new` outside their file. */
export function createIndexHost(deps: IndexHostDeps): IndexHost {
  return new IndexHost(deps);
}
