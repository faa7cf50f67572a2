import type { Candle } from '../market/candle.js';
import type { ReferenceRecord } from '../market/context.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import type { Interval } from '../market/interval.js';
import { type Cache, candleIsNewer, type LatestPrice, priceIsNewer } from './cache.js';

/** The Cache of the embedded mode: maps in process, with the same newer-than rule as Redis. */
export class MemoryCache implements Cache {
  private readonly candles = new Map<string, Candle>();
  private readonly prices = new Map<string, LatestPrice>();
  private readonly indicators = new Map<string, IndicatorValues>();
  private readonly references = new Map<string, ReferenceRecord>();

  async putCandles(candles: readonly Candle[]): Promise<boolean[]> {
    return candles.map((c) => {
      const key = `${c.exchange}\u0000${c.symbol}\u0000${c.interval}`;
      const cur = this.candles.get(key);
      if (cur && !candleIsNewer(c, cur)) return false;
      this.candles.set(key, c);
      return true;
    });
  }

  async latestCandle(exchange: string, symbol: string, interval: Interval): Promise<Candle | null> {
    return this.candles.get(`${exchange}\u0000${symbol}\u0000${interval}`) ?? null;
  }

  async putIndicators(values: readonly IndicatorValues[]): Promise<boolean[]> {
    return values.map((v) => {
      const key = `${v.exchange}\u0000${v.symbol}\u0000${v.interval}`;
      const cur = this.indicators.get(key);
      if (cur && v.openTime <= cur.openTime) return false;
      this.indicators.set(key, v);
      return true;
    });
  }

  async latestIndicators(exchange: string, symbol: string, interval: Interval): Promise<IndicatorValues | null> {
    return this.indicators.get(`${exchange}\u0000${symbol}\u0000${interval}`) ?? null;
  }

  async putPrices(prices: readonly LatestPrice[]): Promise<boolean[]> {
    return prices.map((p) => {
      const key = `${p.exchange}\u0000${p.symbol}`;
      const cur = this.prices.get(key);
      if (cur && !priceIsNewer(p, cur)) return false;
      this.prices.set(key, p);
      return true;
    });
  }

  async latestPrice(exchange: string, symbol: string): Promise<LatestPrice | null> {
    return this.prices.get(`${exchange}\u0000${symbol}`) ?? null;
  }

  async putReferences(records: readonly ReferenceRecord[]): Promise<boolean[]> {
    return records.map((r) => {
      const cur = this.references.get(r.asset);
      if (cur && r.time <= cur.time) return false;
      this.references.set(r.asset, r);
      return true;
    });
  }

  async latestReferences(): Promise<ReferenceRecord[]> {
    return [...this.references.values()].sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
  }

  async close(): Promise<void> {}
}

/** The Cache of the embedded mode. */
export function createMemoryCache(): MemoryCache {
  return new MemoryCache();
}
