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
  /** venue -> symbol -> market ('' for none): no key string built per row. */
  private readonly cache = new Map<string, Map<string, string>>();

  constructor(private readonly fixed?: string) {}

  resolve(venue: string, symbol: string): string | undefined {
    if (this.fixed !== undefined) return this.fixed;
    let symbols = this.cache.get(venue);
    if (symbols === undefined) {
      symbols = new Map();
      this.cache.set(venue, symbols);
    }
    let market = symbols.get(symbol);
    if (market === undefined) {
      market = canonicalMarket(venue, symbol) ?? '';
      symbols.set(symbol, market);
    }
    return market === '' ? undefined : market;
  }
}
