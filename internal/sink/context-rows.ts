import type { NewsRecord, ReferenceRecord, SentimentRecord } from '../market/context.js';
import type { Row } from './sql-driver.js';
import { iso } from './sql-rows.js';

/** Rows of the context tables (context-sql.ts) as the domain's records, and back. */

export function referenceRow(r: ReferenceRecord): Row {
  return {
    asset: r.asset,
    time: iso(r.time),
    source: r.source,
    source_id: r.sourceId,
    vs_currency: r.vsCurrency,
    price: r.price,
    market_cap: r.marketCap,
    rank: r.rank,
    volume_24h: r.volume24h,
    change_24h_pct: r.change24hPct,
    circulating_supply: r.circulatingSupply,
    total_supply: r.totalSupply,
    max_supply: r.maxSupply,
    receive_time: iso(r.receiveTime),
  };
}

const num = (v: unknown): number | null => (v == null ? null : Number(v));

export function referenceFromRow(r: Row): ReferenceRecord {
  return {
    source: r.source as string,
    asset: r.asset as string,
    sourceId: r.source_id as string,
    vsCurrency: r.vs_currency as string,
    price: Number(r.price),
    marketCap: num(r.market_cap),
    rank: num(r.rank),
    volume24h: num(r.volume_24h),
    change24hPct: num(r.change_24h_pct),
    circulatingSupply: num(r.circulating_supply),
    totalSupply: num(r.total_supply),
    maxSupply: num(r.max_supply),
    time: Number(r.time),
    receiveTime: Number(r.receive_time),
  };
}

export function sentimentRow(s: SentimentRecord): Row {
  return {
    index_name: s.index,
    time: iso(s.time),
    source: s.source,
    value: s.value,
    classification: s.classification,
    receive_time: iso(s.receiveTime),
  };
}

export function sentimentFromRow(r: Row): SentimentRecord {
  return {
    source: r.source as string,
    index: r.index_name as string,
    value: Number(r.value),
    classification: r.classification as string,
    time: Number(r.time),
    receiveTime: Number(r.receive_time),
  };
}

export function headlineRow(n: NewsRecord): Row {
  return {
    source: n.source,
    guid: n.guid,
    time: iso(n.published ?? n.receiveTime),
    link: n.link,
    title: n.title,
    summary: n.summary,
    published: n.published === null ? null : iso(n.published),
    receive_time: iso(n.receiveTime),
    assets: n.assets,
    sentiment_score: n.sentiment.score,
    sentiment_comparative: n.sentiment.comparative,
  };
}

export function headlineFromRow(r: Row): NewsRecord {
  return {
    source: r.source as string,
    guid: r.guid as string,
    link: (r.link as string | null) ?? null,
    title: r.title as string,
    summary: (r.summary as string | null) ?? null,
    published: num(r.published),
    receiveTime: Number(r.receive_time),
    assets: JSON.parse(r.assets as string) as string[],
    sentiment: { score: Number(r.sentiment_score), comparative: Number(r.sentiment_comparative) },
  };
}

/** The first record of each key, in order: the one a key's row is made from. */
export function firstByKey<T>(items: readonly T[], key: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) if (!byKey.has(key(item))) byKey.set(key(item), item);
  return [...byKey.values()];
}
