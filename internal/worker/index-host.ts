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
import type { Component } from '../runtime/component.js';
import { alertPayload } from './outputs.js';

export interface IndexHostDeps {
  readonly bus: Bus;
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
          this.actors.set(asset, actor);
        }
        const { index, alerts } = actor.onPrice(update);
        if (index) this.conflate(asset, index);
        for (const a of alerts) {
          this.deps.bus
            .publishDurable(alertSubject(a), alertPayload(a), { msgId: a.id })
            .catch((err: unknown) => this.deps.logger.warn({ err, alert: a.id }, 'divergence alert not stored'));
        }
      }
    })();
  }

  async drain(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.loop?.catch(() => {});
    this.publishIndexes();
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
