import type { Headers, OutgoingRecord } from '../../log/log.js';

/**
 * The records the context connectors append (docs/SOURCES.md): one JSON object per record,
 * UTF-8, header `tm-schema` naming the record and its version. Decimal quantities from a source
 * stay numbers as the source wrote them (they are reference figures, not sums tickmesh builds).
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

/** Input a connector could not use, kept on the context rejects topic with its reason. */
export interface ContextReject {
  readonly source: string;
  readonly reason: ContextRejectReason;
  readonly message: string;
  /** The start of the offending payload or item, at most 500 characters. */
  readonly excerpt: string;
  readonly receiveTime: number;
}

export type ContextRejectReason =
  | 'bad-json'
  | 'bad-xml'
  | 'bad-shape'
  | 'bad-value'
  | 'bad-time'
  | 'missing-field'
  | 'http-status';

/** What repeats of a record are found by, per source (the runner's seen keys; seen-keys.ts). */
export function referenceKey(r: Pick<ReferenceRecord, 'asset' | 'time'>): string {
  return `${r.asset}:${r.time}`;
}

export function sentimentKey(r: Pick<SentimentRecord, 'index' | 'time'>): string {
  return `${r.index}:${r.time}`;
}

export function newsKey(r: Pick<NewsRecord, 'guid'>): string {
  return r.guid;
}

export const SCHEMA_HEADER = 'tm-schema';
const SCHEMAS: Record<ContextKind | 'reject', Headers> = {
  reference: Object.freeze({ [SCHEMA_HEADER]: 'reference.v1' }),
  sentiment: Object.freeze({ [SCHEMA_HEADER]: 'sentiment.v1' }),
  news: Object.freeze({ [SCHEMA_HEADER]: 'news.v1' }),
  reject: Object.freeze({ [SCHEMA_HEADER]: 'context-reject.v1' }),
};

const encoder = new TextEncoder();

export function referenceRecord(r: ReferenceRecord): OutgoingRecord {
  return { key: `${r.source}:${r.asset}`, value: encoder.encode(JSON.stringify(r)), headers: SCHEMAS.reference };
}

export function sentimentRecord(r: SentimentRecord): OutgoingRecord {
  return { key: `${r.source}:${r.index}`, value: encoder.encode(JSON.stringify(r)), headers: SCHEMAS.sentiment };
}

export function newsRecord(r: NewsRecord): OutgoingRecord {
  return { key: r.source, value: encoder.encode(JSON.stringify(r)), headers: SCHEMAS.news };
}

export function contextRejectRecord(r: ContextReject): OutgoingRecord {
  return { key: r.source, value: encoder.encode(JSON.stringify(r)), headers: SCHEMAS.reject };
}

/** The Kafka topics of the context connectors, defined once (docs/SOURCES.md). */
export interface ContextTopics {
  readonly reference: string;
  readonly sentiment: string;
  readonly news: string;
  readonly rejects: string;
}

export const DEFAULT_CONTEXT_TOPICS: ContextTopics = Object.freeze({
  reference: 'tickmesh.reference.v1',
  sentiment: 'tickmesh.sentiment.v1',
  news: 'tickmesh.news.v1',
  rejects: 'tickmesh.context.rejected.v1',
});

/** One excerpt of a payload for a reject: its first 500 characters. */
export function excerpt(text: string): string {
  return text.length > 500 ? text.slice(0, 500) : text;
}
