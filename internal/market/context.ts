/**
 * Context of the markets from other sources (docs/SOURCES.md): reference data, market sentiment,
 * news headlines. Decimal quantities stay numbers as the source wrote them: they are reference
 * figures, not sums tickmesh builds.
 */
export type ContextKind = 'reference' | 'sentiment' | 'news';

/** CoinGecko market data of one asset (`/coins/markets`), or its price only (`/simple/price`). */
export interface ReferenceRecord {
  readonly source: string;
  readonly asset: string;
  /** The source's own id of the asset (CoinGecko coin id). */
  readonly sourceId: string;
  readonly vsCurrency: string;
  readonly price: number;
  readonly marketCap: number | null;
  readonly rank: number | null;
  readonly volume24h: number | null;
  readonly change24hPct: number | null;
  readonly circulatingSupply: number | null;
  readonly totalSupply: number | null;
  readonly maxSupply: number | null;
  /** The source's time of the figures (ms); the receive time when it gives none. */
  readonly time: number;
  readonly receiveTime: number;
}

/** A market-wide sentiment index value (the Crypto Fear & Greed index: one a day). */
export interface SentimentRecord {
  readonly source: string;
  readonly index: string;
  /** 0 (extreme fear) .. 100 (extreme greed). */
  readonly value: number;
  readonly classification: string;
  /** Start of the day the value is for (ms). */
  readonly time: number;
  readonly receiveTime: number;
}

/** One headline of a news feed. */
export interface NewsRecord {
  readonly source: string;
  /** The feed's GUID, or the link when it has none: what repeats are found by. */
  readonly guid: string;
  readonly link: string | null;
  readonly title: string;
  readonly summary: string | null;
  /** The feed's publication time (ms), or null when it has none or it does not parse. */
  readonly published: number | null;
  readonly receiveTime: number;
  /** tickmesh assets the title or summary names (internal/market/assets.ts). */
  readonly assets: readonly string[];
  /** AFINN score of title and summary (`sentiment` package): sum, and per word. */
  readonly sentiment: { readonly score: number; readonly comparative: number };
}
