import type { Headers, OutgoingRecord } from '../../log/log.js';
import type { ContextKind, NewsRecord, ReferenceRecord, SentimentRecord } from '../../market/context.js';

/**
 * The records the context connectors append (docs/SOURCES.md): one JSON object per record,
 * UTF-8, header `tm-schema` naming the record and its version; their types are the domain's
 * (internal/market/context.ts).
 */
export type { ContextKind, NewsRecord, ReferenceRecord, SentimentRecord };

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
  | 'http-status'
  | 'too-large';

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
