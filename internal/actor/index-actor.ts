import type { Alert } from '../market/alert.js';

/** A market actor's latest price as it arrives over the bus (`tickmesh.price.<asset>.<exchange>.<symbol>`). */
export interface PriceUpdate {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
  /** Decimal string. */
  readonly price: string;
  /** Event time of the price, Unix epoch ms. */
  readonly time: number;
  /** Base volume of the market's current window, decimal string. */
  readonly volume: string;
  /** Open time of that window: the volume restarts at each new window. */
  readonly openTime: number;
}

export interface IndexConfig {
  /** A venue that sent nothing for this long is left out of the index. */
  readonly staleAfterMs: number;
  /** A venue this far from the index (basis points) raises a divergence alert. */
  readonly divergenceBps: number;
  /** Venues needed (besides the diverging one) before a divergence is judged. */
  readonly minVenues: number;
  /** Weight of the newest window volume in the per-venue volume average. */
  readonly volumeAlpha: number;
}

export const DEFAULT_INDEX_CONFIG: IndexConfig = Object.freeze({
  staleAfterMs: 60_000,
  divergenceBps: 100,
  minVenues: 2,
  volumeAlpha: 0.3,
});

export interface IndexValue {
  readonly asset: string;
  /** Volume-weighted median of the venues' latest prices (plain median when no venue has volume). */
  readonly price: number;
  readonly time: number;
  readonly venues: ReadonlyArray<{ readonly key: string; readonly price: number; readonly weight: number }>;
}

interface Venue {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
  price: number;
  time: number;
  windowOpen: number;
  windowVolume: number;
  /** Exponential average of completed windows' volumes, in the base asset. */
  avgVolume: number;
  diverging: boolean;
}

/** What one price update did: the new index value, the alerts it raised, whether `diverging()` changed. */
export interface IndexStep {
  readonly index: IndexValue | undefined;
  readonly alerts: Alert[];
  readonly divergingChanged: boolean;
}

/**
 * One asset's cross-venue index (BTC over Binance, Coinbase, Kraken, ...), fed by the market
 * actors' price updates wherever those run. Pure: time comes from the updates. The prices and
 * volume averages are rebuilt from live updates after a move; the divergence flags are what
 * decide its alerts, so the host stores them with the alerts they raise (`diverging()`) and
 * gives them back to the next owner (`restore()`), which then neither repeats an alert for a
 * divergence already raised nor misses the next one.
 *
 * Prices are compared as floats: the index is a statistic, not an exchange record.
 */
export class IndexActor {
  private readonly venues = new Map<string, Venue>();
  private now = Number.NEGATIVE_INFINITY;
  /** Flag flips so far: a step changed the flags when this moved. */
  private flagCount = 0;
  /** Restored flags of venues not seen since the restore. */
  private readonly restored = new Set<string>();

  constructor(
    readonly asset: string,
    private readonly config: IndexConfig = DEFAULT_INDEX_CONFIG,
  ) {}

  /** Sets the divergence flags a previous owner stored; before the first update. */
  restore(diverging: readonly string[]): void {
    for (const key of diverging) this.restored.add(key);
  }

  /** The venues (`exchange:symbol`) with a divergence raised and not yet over, sorted. */
  diverging(): string[] {
    const keys = new Set(this.restored);
    for (const [key, v] of this.venues) if (v.diverging) keys.add(key);
    return [...keys].sort();
  }

  /** Applies one update; returns the new index value and any divergence alert it caused. */
  onPrice(u: PriceUpdate): IndexStep {
    const none = { index: undefined, alerts: [], divergingChanged: false };
    const key = `${u.exchange}:${u.symbol}`;
    const price = Number(u.price);
    const volume = Number(u.volume);
    if (!(price > 0) || !(volume >= 0) || !Number.isFinite(u.time)) return none;
    let v = this.venues.get(key);
    if (!v) {
      v = {
        exchange: u.exchange,
        symbol: u.symbol,
        market: u.market,
        price,
        time: u.time,
        windowOpen: u.openTime,
        windowVolume: volume,
        avgVolume: volume,
        diverging: this.restored.delete(key),
      };
      this.venues.set(key, v);
    } else {
      if (u.time < v.time) return none;
      if (u.openTime > v.windowOpen) {
        const a = this.config.volumeAlpha;
        v.avgVolume = a * v.windowVolume + (1 - a) * v.avgVolume;
        v.windowOpen = u.openTime;
      }
      v.windowVolume = volume;
      v.price = price;
      v.time = u.time;
    }
    if (u.time > this.now) this.now = u.time;
    const index = this.value();
    if (!index) return none;
    const before = this.flagCount;
    const alerts = this.divergence(index);
    return { index, alerts, divergingChanged: this.flagCount !== before };
  }

  /** The index now, or undefined when no venue is fresh. */
  value(): IndexValue | undefined {
    const fresh = [...this.venues.entries()].filter(([, v]) => v.time >= this.now - this.config.staleAfterMs);
    if (fresh.length === 0) return undefined;
    const entries = fresh
      .map(([key, v]) => ({ key, price: v.price, weight: Math.max(v.avgVolume, v.windowVolume) }))
      .sort((a, b) => a.price - b.price || (a.key < b.key ? -1 : 1));
    const total = entries.reduce((s, e) => s + e.weight, 0);
    return { asset: this.asset, price: weightedMedian(entries, total), time: this.now, venues: entries };
  }

  private divergence(index: IndexValue): Alert[] {
    const alerts: Alert[] = [];
    if (index.venues.length < this.config.minVenues + 1) return alerts;
    for (const e of index.venues) {
      const v = this.venues.get(e.key) as Venue;
      // Against the whole index: a weighted median is not moved by one outlier unless that venue
      // alone holds half the volume, while a median of the others is meaningless with two of them.
      const ref = index.price;
      const bps = ((v.price - ref) / ref) * 10_000;
      if (!v.diverging && Math.abs(bps) >= this.config.divergenceBps) {
        v.diverging = true;
        this.flagCount++;
        alerts.push({
          id: `divergence:${this.asset}:${v.exchange}:${v.symbol}:${v.time}`,
          exchange: v.exchange,
          symbol: v.symbol,
          market: v.market,
          kind: 'divergence',
          severity: Math.abs(bps) >= 5 * this.config.divergenceBps ? 'critical' : 'warning',
          time: v.time,
          message: `${v.exchange} ${v.symbol} is ${bps.toFixed(1)} bps from the ${this.asset} cross-venue index`,
          evidence: { price: String(v.price), index: ref, bps, venues: index.venues.length },
        });
      } else if (v.diverging && Math.abs(bps) < this.config.divergenceBps / 2) {
        v.diverging = false;
        this.flagCount++;
      }
    }
    return alerts;
  }
}

function weightedMedian(sorted: ReadonlyArray<{ price: number; weight: number }>, total: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(total > 0)) {
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1
      ? (sorted[mid] as { price: number }).price
      : ((sorted[mid - 1] as { price: number }).price + (sorted[mid] as { price: number }).price) / 2;
  }
  let acc = 0;
  for (const e of sorted) {
    acc += e.weight;
    if (acc >= total / 2) return e.price;
  }
  return (sorted[sorted.length - 1] as { price: number }).price;
}
