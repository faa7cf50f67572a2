/**
 * Canonical market ids: one spelling (`BASE-QUOTE`, uppercase) for the same pair on every venue,
 * so that `BTCUSDT` on Binance, `BTC-USDT` on OKX and `BTC/USDT` on Kraken all read `BTC-USDT`.
 * Derivatives keep what tells them apart from spot after the pair: OKX `BTC-USDT-SWAP` stays
 * `BTC-USDT-SWAP`, Binance's quarterly `BTCUSDT_250328` becomes `BTC-USDT-250328`.
 *
 * Venues that glue base and quote together (Binance, Bybit) are split on the longest quote asset
 * from QUOTE_ASSETS that leaves a non-empty base; a symbol no rule splits has no market id and
 * is rejected as an unknown symbol upstream.
 */

/** The venues tickmesh has adapters for (Trade.exchange); `sim` is the built-in simulator. */
export const VENUES = [
  'binance',
  'binance-futures',
  'coinbase',
  'kraken',
  'okx',
  'bybit',
  'bybit-linear',
  'sim',
] as const;
export type Venue = (typeof VENUES)[number];

export function isVenue(name: string): name is Venue {
  return (VENUES as readonly string[]).includes(name);
}

/**
 * Quote assets Binance and Bybit list, used to split concatenated symbols. Order does not
 * matter: the longest matching suffix wins (`TUSD` before `USD`, `FDUSD` before `USD`).
 */
export const QUOTE_ASSETS: readonly string[] = [
  'USDT',
  'USDC',
  'FDUSD',
  'BUSD',
  'TUSD',
  'USDP',
  'USDS',
  'USD',
  'DAI',
  'UST',
  'PAX',
  'VAI',
  'AEUR',
  'EURI',
  'BTC',
  'ETH',
  'BNB',
  'XRP',
  'TRX',
  'DOGE',
  'DOT',
  'SOL',
  'EUR',
  'GBP',
  'AUD',
  'TRY',
  'BRL',
  'RUB',
  'UAH',
  'NGN',
  'ZAR',
  'PLN',
  'RON',
  'ARS',
  'JPY',
  'MXN',
  'COP',
  'CZK',
  'IDRT',
  'BIDR',
  'BVND',
  'BKRW',
  'GYEN',
];

const quotesLongestFirst = [...QUOTE_ASSETS].sort((a, b) => b.length - a.length);

/** Kraken's names for assets that everyone else spells differently. */
const KRAKEN_ALIASES: Readonly<Record<string, string>> = { XBT: 'BTC', XDG: 'DOGE' };

const ASSET = /^[A-Z0-9]{1,20}$/;

/** `BTCUSDT` -> `{ base: 'BTC', quote: 'USDT' }`, or undefined when no quote asset fits. */
export function splitConcatenated(symbol: string): { base: string; quote: string } | undefined {
  const s = symbol.toUpperCase();
  for (const quote of quotesLongestFirst) {
    if (s.length > quote.length && s.endsWith(quote)) {
      const base = s.slice(0, s.length - quote.length);
      if (ASSET.test(base)) return { base, quote };
    }
  }
  return undefined;
}

function pair(base: string, quote: string, suffix?: string): string | undefined {
  if (!ASSET.test(base) || !ASSET.test(quote)) return undefined;
  return suffix ? `${base}-${quote}-${suffix}` : `${base}-${quote}`;
}

function krakenAsset(asset: string): string {
  const a = asset.toUpperCase();
  return KRAKEN_ALIASES[a] ?? a;
}

/**
 * The canonical market id of `symbol` as `venue` spells it, or undefined when the symbol does not
 * parse for that venue. Pure and cheap; callers on the hot path cache it per symbol.
 */
export function canonicalMarket(venue: string, symbol: string): string | undefined {
  switch (venue) {
    case 'binance':
    case 'binance-futures':
    case 'bybit':
    case 'bybit-linear': {
      const [head, delivery, ...rest] = symbol.toUpperCase().split('_');
      if (head === undefined || rest.length > 0) return undefined;
      if (delivery !== undefined && !/^\d{6}$/.test(delivery)) return undefined;
      const parts = splitConcatenated(head);
      return parts ? pair(parts.base, parts.quote, delivery) : undefined;
    }
    case 'coinbase':
    case 'sim': {
      const [base, quote, ...rest] = symbol.toUpperCase().split('-');
      if (base === undefined || quote === undefined || rest.length > 0) return undefined;
      return pair(base, quote);
    }
    case 'okx': {
      const [base, quote, kind, ...rest] = symbol.toUpperCase().split('-');
      if (base === undefined || quote === undefined || rest.length > 0) return undefined;
      if (kind !== undefined && kind !== 'SWAP' && !/^\d{6}$/.test(kind)) return undefined;
      return pair(base, quote, kind);
    }
    case 'kraken': {
      const [base, quote, ...rest] = symbol.split('/');
      if (base === undefined || quote === undefined || rest.length > 0) return undefined;
      return pair(krakenAsset(base), krakenAsset(quote));
    }
    default:
      return undefined;
  }
}

/**
 * How `venue` spells a symbol the user gave either in the venue's own spelling or as a canonical
 * market id: `BTC-USDT` -> `BTCUSDT` on Binance, `XBT/USD` -> `BTC/USD` on Kraken (its v2 API
 * uses BTC). Returns undefined when the result would not map back to a market.
 */
export function venueSymbol(venue: string, input: string): string | undefined {
  const s = input.trim();
  let out: string;
  switch (venue) {
    case 'binance':
    case 'binance-futures':
    case 'bybit':
    case 'bybit-linear': {
      const m = /^([A-Za-z0-9]+)[-/]([A-Za-z0-9]+)(?:-(\d{6}))?$/.exec(s);
      out = m ? `${m[1]}${m[2]}${m[3] ? `_${m[3]}` : ''}`.toUpperCase() : s.toUpperCase();
      break;
    }
    case 'kraken': {
      const [base, quote, ...rest] = s.replace('-', '/').split('/');
      if (base === undefined || quote === undefined || rest.length > 0) return undefined;
      out = `${krakenAsset(base)}/${krakenAsset(quote)}`;
      break;
    }
    case 'coinbase':
    case 'okx':
    case 'sim':
      out = s.replace('/', '-').toUpperCase();
      break;
    default:
      return undefined;
  }
  return canonicalMarket(venue, out) === undefined ? undefined : out;
}

/** OKX's perpetual swaps (`BTC-USDT-SWAP`) and dated futures (`BTC-USDT-250328`): their trades count contracts. */
export function isOkxDerivative(instId: string): boolean {
  return /-(SWAP|\d{6})$/.test(instId);
}
