import { canonicalMarket } from '../../market/markets.js';

/** tardis.dev exchange ids that tickmesh spells differently. */
const TARDIS_VENUES: Readonly<Record<string, string>> = {
  okex: 'okx',
  'okex-swap': 'okx',
  'okex-futures': 'okx',
  'bybit-spot': 'bybit',
  'coinbase-international': 'coinbase',
};

/** tickmesh's venue id for a tardis.dev exchange id (most are the same). */
export function venueOfTardis(exchange: string): string {
  return TARDIS_VENUES[exchange] ?? exchange;
}

/** Caches canonicalMarket per (venue, symbol): files repeat the same few symbols millions of times. */
export class MarketResolver {
  private readonly cache = new Map<string, string | undefined>();

  constructor(private readonly fixed?: string) {}

  resolve(venue: string, symbol: string): string | undefined {
    if (this.fixed !== undefined) return this.fixed;
    const key = `${venue}:${symbol}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const market = canonicalMarket(venue, symbol);
    this.cache.set(key, market);
    return market;
  }
}
