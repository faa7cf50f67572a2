import type { DurableStreamConfig } from './bus.js';
import { subjectToken } from './subject-syntax.js';

/**
 * tickmesh's subject names, streams and buckets (docs/STORAGE.md). Every variable part is one
 * token, so clients subscribe with wildcards: `tickmesh.candle.*.1m.binance.>` is every 1m
 * candle update of Binance, partial and closed.
 */
export const ROOT = 'tickmesh';

export type CandleUpdateKind = 'partial' | 'closed';

/** `tickmesh.candle.<partial|closed>.<interval>.<exchange>.<symbol>` */
export function candleSubject(
  kind: CandleUpdateKind,
  c: { interval: string; exchange: string; symbol: string },
): string {
  return `${ROOT}.candle.${kind}.${subjectToken(c.interval)}.${subjectToken(c.exchange)}.${subjectToken(c.symbol)}`;
}

/** `tickmesh.alert.<kind>.<exchange>.<symbol>`; cross-venue alerts use exchange `index` and the asset as symbol. */
export function alertSubject(a: { kind: string; exchange: string; symbol: string }): string {
  return `${ROOT}.alert.${subjectToken(a.kind)}.${subjectToken(a.exchange)}.${subjectToken(a.symbol)}`;
}

/**
 * `tickmesh.price.<base asset>.<exchange>.<symbol>`: a market actor's latest price, for the
 * per-asset index actors (`tickmesh.price.BTC.>`).
 */
export function priceSubject(p: { market: string; exchange: string; symbol: string }): string {
  const base = p.market.split('-')[0] ?? p.market;
  return `${ROOT}.price.${subjectToken(base)}.${subjectToken(p.exchange)}.${subjectToken(p.symbol)}`;
}

/** `tickmesh.prediction.<interval>.<exchange>.<symbol>`: the trend model's forecast with its scores (docs/MODEL.md). */
export function predictionSubject(p: { interval: string; exchange: string; symbol: string }): string {
  return `${ROOT}.prediction.${subjectToken(p.interval)}.${subjectToken(p.exchange)}.${subjectToken(p.symbol)}`;
}

/**
 * `tickmesh.indicator.<interval>.<exchange>.<symbol>`: a closed candle's indicators (IndicatorValues
 * as JSON), published with the candle on its first close; the durable copy is the store's.
 */
export function indicatorSubject(v: { interval: string; exchange: string; symbol: string }): string {
  return `${ROOT}.indicator.${subjectToken(v.interval)}.${subjectToken(v.exchange)}.${subjectToken(v.symbol)}`;
}

/**
 * `tickmesh.context.<reference|sentiment|news>.<asset, index or feed>`: a context record (its
 * topic's JSON, docs/SOURCES.md) once stored, for the context actors; at least once, keyed as
 * its table is.
 */
export function contextSubject(kind: 'reference' | 'sentiment' | 'news', key: string): string {
  return `${ROOT}.context.${kind}.${subjectToken(key)}`;
}

/**
 * `tickmesh.verification.<verified|mismatch|unverifiable>.<interval>.<exchange>.<symbol>`: a closed
 * candle's check against the venue (VerificationEvent as JSON), at least once, per revision.
 */
export function verificationSubject(v: { status: string; interval: string; exchange: string; symbol: string }): string {
  return `${ROOT}.verification.${subjectToken(v.status)}.${subjectToken(v.interval)}.${subjectToken(v.exchange)}.${subjectToken(v.symbol)}`;
}

/** `tickmesh.index.<asset>`: an index actor's cross-venue price. */
export function indexSubject(asset: string): string {
  return `${ROOT}.index.${subjectToken(asset)}`;
}

/**
 * Message id of a closed candle on JetStream: the candle key and its revision. The key alone
 * would make the stream swallow a revision published within the duplicate window.
 */
export function candleMsgId(c: {
  exchange: string;
  symbol: string;
  interval: string;
  openTime: number;
  revision: number;
}): string {
  return `${c.exchange}:${c.symbol}:${c.interval}:${c.openTime}#${c.revision}`;
}

/** Closed (and revised) candles. Published only with publishDurable, never with publish. */
export const CANDLES_STREAM: DurableStreamConfig = Object.freeze({
  name: 'TICKMESH_CANDLES',
  subjects: [`${ROOT}.candle.closed.>`],
  maxAgeMs: 7 * 86_400_000,
  duplicateWindowMs: 10 * 60_000,
});

/** Candle verifications (verificationSubject), de-duplicated by candle, revision and judgement. */
export const VERIFICATIONS_STREAM: DurableStreamConfig = Object.freeze({
  name: 'TICKMESH_VERIFICATIONS',
  subjects: [`${ROOT}.verification.>`],
  maxAgeMs: 7 * 86_400_000,
  duplicateWindowMs: 10 * 60_000,
});

/** Alerts, de-duplicated by their deterministic alert id. */
export const ALERTS_STREAM: DurableStreamConfig = Object.freeze({
  name: 'TICKMESH_ALERTS',
  subjects: [`${ROOT}.alert.>`],
  maxAgeMs: 30 * 86_400_000,
  duplicateWindowMs: 10 * 60_000,
});
