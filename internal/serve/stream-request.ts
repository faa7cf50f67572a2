import { z } from 'zod';
import { ROOT } from '../bus/subject-names.js';
import { subjectToken } from '../bus/subject-syntax.js';
import type { Interval } from '../market/interval.js';
import { NAME_PATTERN } from './query-schemas.js';

/**
 * What a WebSocket client may send on /api/v1/stream (docs/API.md):
 *
 *   {"subscribe": {"candles": {"interval": "1m", "exchange": "*", "symbol": "*"}, "alerts": true, "index": true}}
 *   {"subscribe": {"indicators": {"interval": "1m", "exchange": "binance", "symbol": "BTCUSDT"}}}
 *   {"subscribe": {"verification": {"interval": "*", "exchange": "binance", "status": "mismatch"}}}
 *
 * A subscribe replaces the connection's previous one; `{"subscribe": {}}` stops everything.
 * `candles` may be one filter or a list; `kind` picks partial (open window) or closed updates,
 * both by default; `indicators` (the same filters without `kind`) follows closed candles'
 * indicator values; `verification` (the same filters, `status` instead of `kind`) follows the
 * venues' judgements of closed candles. `*` matches any exchange, symbol, interval, alert kind,
 * status or asset.
 */
export type StreamTopic = 'candle' | 'alert' | 'index' | 'indicator' | 'verification';

export interface StreamPlan {
  /** Bus subject patterns to subscribe to, each with the topic its messages carry. */
  readonly subjects: ReadonlyArray<{ readonly topic: StreamTopic; readonly subject: string }>;
}

export type ParsedRequest =
  | { readonly ok: true; readonly plan: StreamPlan }
  | { readonly ok: false; readonly error: string };

export const MAX_CANDLE_FILTERS = 32;

const name = z.string().min(1).max(64).regex(new RegExp(NAME_PATTERN), 'must be printable ASCII with no whitespace');

/** `true` as an empty filter (everything), `false` as absent: one object shape to validate and report on. */
const flag = (v: unknown) => (v === true ? {} : v === false ? undefined : v);

/** The zod schema of a client message: what the stream validates with, and what /api/v1/asyncapi.json shows. */
export function streamRequestSchema(intervals: readonly Interval[]) {
  const candleFilter = z.strictObject({
    interval: z.enum(['*', ...intervals]),
    exchange: name.default('*'),
    symbol: name.default('*'),
    kind: z.enum(['partial', 'closed', '*']).default('*'),
  });
  const indicatorFilter = z.strictObject({
    interval: z.enum(['*', ...intervals]),
    exchange: name.default('*'),
    symbol: name.default('*'),
  });
  const verificationFilter = indicatorFilter.extend({
    status: z.enum(['verified', 'mismatch', 'unverifiable', '*']).default('*'),
  });
  return z.strictObject({
    subscribe: z.strictObject({
      // One filter or a list of them; a lone one is validated as a list of one.
      candles: z.preprocess(
        (v) => (v === undefined || Array.isArray(v) ? v : [v]),
        z.array(candleFilter).max(MAX_CANDLE_FILTERS).optional(),
      ),
      indicators: z.preprocess(
        (v) => (v === undefined || Array.isArray(v) ? v : [v]),
        z.array(indicatorFilter).max(MAX_CANDLE_FILTERS).optional(),
      ),
      verification: z.preprocess(
        (v) => (v === undefined || Array.isArray(v) ? v : [v]),
        z.array(verificationFilter).max(MAX_CANDLE_FILTERS).optional(),
      ),
      alerts: z.preprocess(
        flag,
        z.strictObject({ exchange: name.default('*'), symbol: name.default('*'), kind: name.default('*') }).optional(),
      ),
      index: z.preprocess(flag, z.strictObject({ asset: name.default('*') }).optional()),
    }),
  });
}

export type StreamRequestParser = (text: string) => ParsedRequest;

/** A parser for client messages that accepts the given intervals. */
export function streamRequestParser(intervals: readonly Interval[]): StreamRequestParser {
  const schema = streamRequestSchema(intervals);
  return (text) => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, error: 'message is not JSON' };
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`);
      return { ok: false, error: issues.join('; ') };
    }
    const { candles, indicators, verification, alerts, index } = parsed.data.subscribe;
    const subjects = new Map<string, StreamTopic>();
    for (const f of candles ?? []) {
      subjects.set(`${ROOT}.candle.${f.kind}.${f.interval}.${token(f.exchange)}.${token(f.symbol)}`, 'candle');
    }
    for (const f of indicators ?? []) {
      subjects.set(`${ROOT}.indicator.${f.interval}.${token(f.exchange)}.${token(f.symbol)}`, 'indicator');
    }
    for (const f of verification ?? []) {
      subjects.set(
        `${ROOT}.verification.${f.status}.${f.interval}.${token(f.exchange)}.${token(f.symbol)}`,
        'verification',
      );
    }
    if (alerts)
      subjects.set(`${ROOT}.alert.${token(alerts.kind)}.${token(alerts.exchange)}.${token(alerts.symbol)}`, 'alert');
    if (index) subjects.set(`${ROOT}.index.${token(index.asset)}`, 'index');
    return { ok: true, plan: { subjects: [...subjects].map(([subject, topic]) => ({ topic, subject })) } };
  };
}

/** A filter value as one subject token; `*` stays the wildcard. */
function token(value: string): string {
  return value === '*' ? '*' : subjectToken(value);
}
