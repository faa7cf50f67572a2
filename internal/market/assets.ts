/**
 * tickmesh's assets (the base of a canonical market id: BTC of BTC-USDT) with the names other
 * sources use for them: CoinGecko's coin id, and the words a headline names them by. One table,
 * kept by hand: add a row to follow a new asset. An asset that a source names but that is not in
 * the table is counted by the connector (`unmapped`), not guessed.
 */
export interface AssetInfo {
  readonly asset: string;
  /** CoinGecko's coin id (`/coins/markets` `id`, `/simple/price` key). */
  readonly coingecko: string;
  /** Words or phrases (lowercase) that name the asset in a headline, matched as whole words. */
  readonly names: readonly string[];
  /** Whether the ticker alone (case-sensitive, as a whole word) names it; off for tickers that are common words. */
  readonly tickerInText: boolean;
}

export const ASSETS: readonly AssetInfo[] = Object.freeze([
  { asset: 'BTC', coingecko: 'bitcoin', names: ['bitcoin', 'bitcoins'], tickerInText: true },
  { asset: 'ETH', coingecko: 'ethereum', names: ['ethereum', 'ether'], tickerInText: true },
  { asset: 'USDT', coingecko: 'tether', names: ['tether'], tickerInText: true },
  { asset: 'BNB', coingecko: 'binancecoin', names: ['bnb chain', 'binance coin'], tickerInText: true },
  { asset: 'SOL', coingecko: 'solana', names: ['solana'], tickerInText: true },
  { asset: 'USDC', coingecko: 'usd-coin', names: ['usd coin', 'circle usdc'], tickerInText: true },
  { asset: 'XRP', coingecko: 'ripple', names: ['xrp', 'ripple'], tickerInText: true },
  { asset: 'DOGE', coingecko: 'dogecoin', names: ['dogecoin'], tickerInText: true },
  { asset: 'ADA', coingecko: 'cardano', names: ['cardano'], tickerInText: true },
  { asset: 'TRX', coingecko: 'tron', names: ['tron'], tickerInText: true },
  { asset: 'AVAX', coingecko: 'avalanche-2', names: ['avalanche'], tickerInText: true },
  { asset: 'LINK', coingecko: 'chainlink', names: ['chainlink'], tickerInText: false },
  { asset: 'DOT', coingecko: 'polkadot', names: ['polkadot'], tickerInText: false },
  { asset: 'LTC', coingecko: 'litecoin', names: ['litecoin'], tickerInText: true },
  { asset: 'BCH', coingecko: 'bitcoin-cash', names: ['bitcoin cash'], tickerInText: true },
  { asset: 'XLM', coingecko: 'stellar', names: ['stellar'], tickerInText: true },
  { asset: 'SHIB', coingecko: 'shiba-inu', names: ['shiba inu'], tickerInText: true },
  { asset: 'TON', coingecko: 'the-open-network', names: ['toncoin'], tickerInText: false },
  { asset: 'HBAR', coingecko: 'hedera-hashgraph', names: ['hedera'], tickerInText: true },
  { asset: 'SUI', coingecko: 'sui', names: [], tickerInText: false },
  { asset: 'PEPE', coingecko: 'pepe', names: ['pepecoin'], tickerInText: true },
  { asset: 'DAI', coingecko: 'dai', names: [], tickerInText: false },
  { asset: 'UNI', coingecko: 'uniswap', names: ['uniswap'], tickerInText: false },
  { asset: 'ATOM', coingecko: 'cosmos', names: ['cosmos hub'], tickerInText: false },
  { asset: 'MATIC', coingecko: 'matic-network', names: ['polygon'], tickerInText: true },
]);

const BY_COINGECKO = new Map(ASSETS.map((a) => [a.coingecko, a.asset]));

/** The tickmesh asset of a CoinGecko coin id, or undefined when the table has none. */
export function assetOfCoingecko(id: string): string | undefined {
  return BY_COINGECKO.get(id);
}

/** The CoinGecko ids of `assets` (unknown ones left out). */
export function coingeckoIds(assets: readonly string[]): string[] {
  const wanted = new Set(assets);
  return ASSETS.filter((a) => wanted.has(a.asset)).map((a) => a.coingecko);
}
