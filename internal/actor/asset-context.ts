import type { Alert } from '../market/alert.js';
import type { NewsRecord, ReferenceRecord, SentimentRecord } from '../market/context.js';

export interface AssetContextConfig {
  /** A headline published this long before a spike's time, or after it, explains the spike. */
  readonly beforeMs: number;
  readonly afterMs: number;
  /** Headlines kept per asset (the newest). */
  readonly maxHeadlines: number;
  /** Spikes kept per asset (the newest), for headlines that come after them. */
  readonly maxSpikes: number;
}

export const DEFAULT_ASSET_CONTEXT_CONFIG: AssetContextConfig = Object.freeze({
  beforeMs: 30 * 60_000,
  afterMs: 5 * 60_000,
  maxHeadlines: 50,
  maxSpikes: 100,
});

/** What the context actor knows of one asset: for market actors and the API. */
export interface AssetView {
  readonly asset: string;
  readonly reference: ReferenceRecord | undefined;
  /** Newest first. */
  readonly headlines: readonly NewsRecord[];
  /** The market-wide index (Fear & Greed), the same for every asset. */
  readonly sentiment: SentimentRecord | undefined;
}

/** A headline's time: the feed's own, or when it was received when the feed gave none. */
function headlineTime(n: NewsRecord): number {
  return n.published ?? n.receiveTime;
}

/**
 * The context of tickmesh's assets, joined from the context topics (internal/ingest/context): the
 * latest reference data per asset, the latest market sentiment, and the recent headlines per
 * asset they name. Pure: records and alerts come in as arguments, time with them.
 *
 * News spike: a price or volume spike alert on a market whose base asset has a headline dated
 * within [time - beforeMs, time + afterMs] becomes a `news_spike` alert carrying the headline
 * (the nearest in time), with the spike's id in its own so that a replay re-creates it. The join
 * goes both ways: a spike that no headline explains yet is held (the newest maxSpikes per asset),
 * and a headline that comes later and falls in its window makes the alert then. A spike makes at
 * most one news spike here: with the headline nearest to it among those known when it first
 * matched (a closer headline that comes later does not make a second one).
 */
export class AssetContext {
  private readonly cfg: AssetContextConfig;
  private readonly reference = new Map<string, ReferenceRecord>();
  private readonly news = new Map<string, NewsRecord[]>();
  private sentimentValue: SentimentRecord | undefined;
  /** Spikes per asset, oldest first, and whether each made its news spike. */
  private readonly spikes = new Map<string, Array<{ spike: Alert; joined: boolean }>>();

  constructor(cfg: AssetContextConfig = DEFAULT_ASSET_CONTEXT_CONFIG) {
    this.cfg = cfg;
  }

  /** Keeps the newer of this and the held record of its asset (by the source's time). */
  onReference(r: ReferenceRecord): void {
    const held = this.reference.get(r.asset);
    if (held === undefined || r.time >= held.time) this.reference.set(r.asset, r);
  }

  onSentiment(s: SentimentRecord): void {
    if (this.sentimentValue === undefined || s.time >= this.sentimentValue.time) this.sentimentValue = s;
  }

  /**
   * Files the headline under every asset it names (a repeat, same source and guid, is ignored)
   * and returns the news spikes of held spikes that it is the first headline to explain.
   */
  onNews(n: NewsRecord): Alert[] {
    const made: Alert[] = [];
    for (const asset of n.assets) {
      let list = this.news.get(asset);
      if (list === undefined) {
        list = [];
        this.news.set(asset, list);
      }
      if (list.some((h) => h.guid === n.guid && h.source === n.source)) continue;
      list.push(n);
      list.sort((a, b) => headlineTime(b) - headlineTime(a));
      if (list.length > this.cfg.maxHeadlines) list.length = this.cfg.maxHeadlines;
      for (const held of this.spikes.get(asset) ?? []) {
        if (held.joined) continue;
        const alert = this.join(held.spike, asset);
        if (alert === undefined) continue;
        held.joined = true;
        made.push(alert);
      }
    }
    return made;
  }

  view(asset: string): AssetView {
    return {
      asset,
      reference: this.reference.get(asset),
      headlines: [...(this.news.get(asset) ?? [])],
      sentiment: this.sentimentValue,
    };
  }

  /**
   * The news spike a price or volume spike makes with a headline of its asset; undefined when no
   * headline explains it yet (it is held for later headlines) or it was seen before.
   */
  onAlert(a: Alert): Alert | undefined {
    if (a.kind !== 'price_spike' && a.kind !== 'volume_spike') return undefined;
    const asset = assetOf(a);
    let held = this.spikes.get(asset);
    if (held === undefined) {
      held = [];
      this.spikes.set(asset, held);
    }
    if (held.some((h) => h.spike.id === a.id)) return undefined;
    const entry = { spike: a, joined: false };
    held.push(entry);
    held.sort((x, y) => x.spike.time - y.spike.time);
    if (held.length > this.cfg.maxSpikes) held.splice(0, held.length - this.cfg.maxSpikes);
    const alert = this.join(a, asset);
    if (alert !== undefined) entry.joined = true;
    return alert;
  }

  private join(a: Alert, asset: string): Alert | undefined {
    let best: NewsRecord | undefined;
    let bestGap = Number.POSITIVE_INFINITY;
    for (const n of this.news.get(asset) ?? []) {
      const t = headlineTime(n);
      if (t < a.time - this.cfg.beforeMs || t > a.time + this.cfg.afterMs) continue;
      const gap = Math.abs(a.time - t);
      if (gap < bestGap) {
        best = n;
        bestGap = gap;
      }
    }
    if (best === undefined) return undefined;
    return {
      id: `${a.id}:news`,
      exchange: a.exchange,
      symbol: a.symbol,
      market: a.market,
      kind: 'news_spike',
      severity: a.severity,
      time: a.time,
      ...(a.interval !== undefined ? { interval: a.interval } : {}),
      message: `${a.message}; headline: ${best.title}`,
      evidence: {
        spikeId: a.id,
        spikeKind: a.kind,
        headline: best.title,
        headlineSource: best.source,
        headlineLink: best.link ?? '',
        headlineTime: headlineTime(best),
        headlineSentiment: best.sentiment.score,
        secondsFromHeadline: Math.round((a.time - headlineTime(best)) / 1000),
      },
    };
  }
}

/** The base asset of the spike's market (`BTC-USDT` → BTC). */
export function assetOf(a: Pick<Alert, 'market'>): string {
  return a.market.split('-')[0] as string;
}
