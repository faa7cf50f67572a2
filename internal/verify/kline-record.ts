import { isObject, tryParse } from '../ingest/venue.js';
import { type Interval, isInterval } from '../market/interval.js';
import { isPlainDecimal, KLINE_FIELDS, type VenueKline } from './kline.js';
import type { KlinePush } from './kline-push.js';

/** The topic ingest writes the venues' kline pushes to, keyed like trades so a market's klines share its partition. */
export const KLINES_TOPIC = 'tickmesh.klines.v1';

/**
 * `kline.v1`: one kline push of a venue's candle channel, as ingest appends it to the klines
 * topic with key `<exchange>:<symbol>` (the trades' key, so that the same partition number of
 * both topics holds one market's trades and its venue's candles). docs/RECORD-FORMAT.md.
 */
export interface KlineRecord extends KlinePush {
  readonly v: 1;
  readonly exchange: string;
  readonly symbol: string;
  /** When ingest received the frame, Unix epoch ms. */
  readonly receivedAt: number;
}

/** The `tm-schema` header value of a kline record (internal/log/record.ts SCHEMA_HEADER). */
export const KLINE_SCHEMA_V1 = 'kline.v1';

export function klineRecordKey(r: Pick<KlineRecord, 'exchange' | 'symbol'>): string {
  return `${r.exchange}:${r.symbol}`;
}

export function encodeKlineRecord(r: KlineRecord): string {
  return JSON.stringify(r);
}

export type KlineRecordResult = { readonly record: KlineRecord } | { readonly reject: string };

const OPTIONAL_DECIMALS = ['volume', 'quoteVolume', 'takerBuyVolume', 'takerBuyQuoteVolume', 'vwap'] as const;

/** Reads a `kline.v1` record back; anything else is a reason, never an exception. */
export function decodeKlineRecord(text: string): KlineRecordResult {
  const o = tryParse(text);
  if (!isObject(o)) return { reject: 'not a JSON object' };
  if (o.v !== 1) return { reject: 'not kline.v1' };
  for (const f of ['exchange', 'symbol', 'market'] as const) {
    if (typeof o[f] !== 'string' || o[f] === '') return { reject: `${f} missing` };
  }
  if (typeof o.interval !== 'string' || !isInterval(o.interval)) return { reject: 'unknown interval' };
  if (o.final !== undefined && typeof o.final !== 'boolean') return { reject: 'final is not a boolean' };
  if (!Number.isSafeInteger(o.receivedAt)) return { reject: 'receivedAt is not an integer' };
  const k = o.kline;
  if (!isObject(k)) return { reject: 'kline missing' };
  if (!Number.isSafeInteger(k.openTime)) return { reject: 'kline.openTime is not an integer' };
  for (const f of ['open', 'high', 'low', 'close'] as const) {
    if (!isPlainDecimal(k[f])) return { reject: `kline.${f} is not a plain decimal` };
  }
  for (const f of OPTIONAL_DECIMALS) {
    if (k[f] !== undefined && !isPlainDecimal(k[f])) return { reject: `kline.${f} is not a plain decimal` };
  }
  if (k.trades !== undefined && !(Number.isSafeInteger(k.trades) && (k.trades as number) >= 0)) {
    return { reject: 'kline.trades is not a count' };
  }
  const kline: Record<string, unknown> = { openTime: k.openTime };
  for (const f of KLINE_FIELDS) if (k[f] !== undefined) kline[f] = k[f];
  return {
    record: {
      v: 1,
      exchange: o.exchange as string,
      symbol: o.symbol as string,
      market: o.market as string,
      interval: o.interval as Interval,
      final: o.final as boolean | undefined,
      kline: kline as unknown as VenueKline,
      receivedAt: o.receivedAt as number,
    },
  };
}
