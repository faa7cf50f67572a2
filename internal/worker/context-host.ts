import type { Logger } from 'pino';
import { AssetContext, type AssetContextConfig, assetOf } from '../actor/asset-context.js';
import type { Bus, BusMessage } from '../bus/bus.js';
import { alertSubject } from '../bus/subject-names.js';
import type { Alert } from '../market/alert.js';
import type { NewsRecord, ReferenceRecord, SentimentRecord } from '../market/context.js';
import type { Component } from '../runtime/component.js';
import { retry } from '../runtime/retry.js';
import { OUTPUT_RETRY } from '../runtime/retry-policies.js';
import type { ContextStore } from '../sink/context-store.js';
import { alertPayload } from './outputs.js';

export interface ContextHostDeps {
  readonly bus: Bus;
  readonly store: Pick<ContextStore, 'putAlerts' | 'news' | 'latestReferences'>;
  readonly logger: Logger;
  readonly config?: AssetContextConfig;
  /** Whether this worker runs the context actor of `asset` (ownerOf, as the index actors). */
  readonly owns: (asset: string) => boolean;
  /** Headlines read back from the store at start (the newest). Default 500. */
  readonly seedHeadlines?: number;
}

const decoder = new TextDecoder();

/**
 * The per-asset context actors this worker owns (internal/actor/asset-context.ts), placed like the
 * index actors and talking to the rest only over the bus: they read the context records the
 * recorder stored (`tickmesh.context.>`) and the price and volume spikes of every market
 * (`tickmesh.alert.price_spike.>`, `tickmesh.alert.volume_spike.>`, published by whichever worker
 * runs the market) and join a spike with a headline of its asset into a `news_spike` alert:
 * stored once (the alerts table, by its id `<spike id>:news`) and published on JetStream (the
 * alert's id as message id). At start they read the newest headlines and reference data back from
 * the store, so a restart or a move keeps the join's window (docs/SOURCES.md, "Joined to the
 * markets", for the rule and its limits).
 */
export class ContextHost implements Component {
  private readonly context: AssetContext;
  private readonly controller = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly log: Logger;
  /** Writes of news spikes in flight, so that close() waits for them. */
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly deps: ContextHostDeps) {
    this.context = new AssetContext(deps.config);
    this.log = deps.logger.child({ component: 'context-host' });
  }

  /** What the context actor of `asset` holds (for tests and the API). */
  view(asset: string) {
    return this.context.view(asset);
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.controller.abort(), { once: true });
    const sub = (subject: string) =>
      this.deps.bus.subscribe(subject, { signal: this.controller.signal, capacity: 10_000 });
    // Subscribed before the store is read, so that nothing stored in between is missed.
    const records = sub('tickmesh.context.>');
    const spikes = [sub('tickmesh.alert.price_spike.>'), sub('tickmesh.alert.volume_spike.>')];
    for (const r of await this.deps.store.latestReferences()) if (this.deps.owns(r.asset)) this.context.onReference(r);
    const seed = await this.deps.store.news({ limit: this.deps.seedHeadlines ?? 500 });
    for (const n of seed) this.onNews(n);
    this.loops.push(
      this.each(records, (m) => this.onRecord(m)),
      ...spikes.map((s) => this.each(s, (m) => this.onSpike(m))),
    );
  }

  async drain(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    this.controller.abort();
    await Promise.allSettled(this.loops);
    await Promise.allSettled([...this.writes]);
  }

  private async each(messages: AsyncIterable<BusMessage>, fn: (m: BusMessage) => void): Promise<void> {
    for await (const m of messages) {
      try {
        fn(m);
      } catch (err) {
        this.log.warn({ err, subject: m.subject }, 'context message dropped');
      }
    }
  }

  private onRecord(m: BusMessage): void {
    const kind = m.subject.split('.')[2];
    const value = JSON.parse(decoder.decode(m.data)) as unknown;
    if (kind === 'news') this.onNews(value as NewsRecord);
    else if (kind === 'reference') {
      const r = value as ReferenceRecord;
      if (this.deps.owns(r.asset)) this.context.onReference(r);
    } else if (kind === 'sentiment') this.context.onSentiment(value as SentimentRecord);
  }

  private onNews(n: NewsRecord): void {
    const owned = n.assets.filter((a) => this.deps.owns(a));
    if (owned.length === 0) return;
    this.emit(this.context.onNews(owned.length === n.assets.length ? n : { ...n, assets: owned }));
  }

  private onSpike(m: BusMessage): void {
    const spike = JSON.parse(decoder.decode(m.data)) as Alert;
    if (typeof spike.market !== 'string' || !this.deps.owns(assetOf(spike))) return;
    const made = this.context.onAlert(spike);
    if (made) this.emit([made]);
  }

  /** Publishes the news spikes (at least once, de-duplicated by id) and stores them once. */
  private emit(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    const write = (async () => {
      for (const a of alerts) {
        await this.deps.bus
          .publishDurable(alertSubject(a), alertPayload(a), { msgId: a.id })
          .catch((err: unknown) => this.log.warn({ err, alert: a.id }, 'news spike not published'));
      }
      try {
        const stored = await retry(() => this.deps.store.putAlerts(alerts), {
          ...OUTPUT_RETRY,
          signal: this.controller.signal,
        });
        for (const a of stored) this.log.info({ alert: a.id, market: a.market }, 'news spike');
      } catch (err) {
        this.log.error({ err, alerts: alerts.map((a) => a.id) }, 'news spike not stored');
      }
    })();
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }
}

/** Makes a ContextHost: components are made by their create* factory. */
export function createContextHost(deps: ContextHostDeps): ContextHost {
  return new ContextHost(deps);
}
