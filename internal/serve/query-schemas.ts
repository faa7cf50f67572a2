import { ALERT_KINDS, type AlertKind } from '../market/alert.js';
import type { Interval } from '../market/interval.js';
import type { VerificationState } from '../sink/verification-store.js';
import { VERIFICATION_STATES } from '../verify/verification.js';
import type { ApiConfig } from './api-config.js';

/**
 * JSON schemas of the REST query strings, checked by Fastify before a handler runs: a request
 * that does not match gets a 400 naming the parameter. Unknown parameters are refused too, so
 * a typo (`intreval`) is an error rather than a silently ignored filter.
 */
/**
 * An exchange, symbol or alert filter: printable ASCII without spaces. A control character (a
 * NUL from `%00`) would otherwise reach the database, which refuses it as an internal error.
 */
export const NAME_PATTERN = '^[\\x21-\\x7e]+$';
const name = { type: 'string', minLength: 1, maxLength: 64, pattern: NAME_PATTERN } as const;

/** The latest time a query may name: the end of year 9999, as ISO 8601 and SQL timestamps go. */
export const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Unix epoch milliseconds, or an ISO 8601 date or time (`2024-01-15`, `2024-01-15T10:00:00Z`). */
const time = {
  type: 'string',
  pattern: '^(\\d{1,15}|\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})?)?)$',
} as const;

/** The `next` of a page passed back as `after`: an opaque URL-safe token. */
const cursor = { type: 'string', minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$' } as const;

export interface MarketQuery {
  readonly exchange: string;
  readonly symbol: string;
}
export interface CandlesQuery extends MarketQuery {
  readonly interval: Interval;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
  /** Candles only: the candles whose current revision has this judgement (`pending`: none yet). */
  readonly verification?: VerificationState;
}
export interface LatestCandleQuery extends MarketQuery {
  readonly interval: Interval;
}
export interface AlertsQuery {
  readonly exchange?: string;
  readonly symbol?: string;
  readonly kind?: AlertKind;
  /** The `next` of the previous page. */
  readonly after?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
}
export interface VerificationQuery {
  readonly exchange?: string;
  readonly symbol?: string;
  readonly interval?: Interval;
  readonly from?: string;
  readonly to?: string;
  /** The `next` of the previous page of mismatches. */
  readonly after?: string;
  readonly limit?: number;
}
export interface MarketsQuery {
  readonly interval?: Interval;
}

export function querySchemas(config: ApiConfig) {
  const interval = { type: 'string', enum: [...config.intervals] } as const;
  const object = (properties: Record<string, object>, required: string[] = []) => ({
    type: 'object',
    properties,
    required,
    additionalProperties: false,
  });
  const seriesProperties = {
    exchange: name,
    symbol: name,
    interval,
    from: time,
    to: time,
    limit: { type: 'integer', minimum: 1, maximum: config.candleLimit.max },
  };
  return {
    markets: object({ interval }),
    /** A page of one market's series of one interval (predictions, indicators). */
    series: object(seriesProperties, ['exchange', 'symbol', 'interval']),
    /** A page of one market's candles of one interval, optionally of one verification status. */
    candles: object(
      {
        ...seriesProperties,
        verification: {
          type: 'string',
          enum: [...VERIFICATION_STATES],
          description:
            'Only the candles whose current revision the venue check judged so (`pending`: not judged yet, or only an earlier revision).',
        },
      },
      ['exchange', 'symbol', 'interval'],
    ),
    latestCandle: object({ exchange: name, symbol: name, interval }, ['exchange', 'symbol', 'interval']),
    latestPrice: object({ exchange: name, symbol: name }, ['exchange', 'symbol']),
    alerts: object({
      exchange: name,
      symbol: name,
      kind: { type: 'string', enum: [...ALERT_KINDS] },
      after: cursor,
      from: time,
      to: time,
      limit: { type: 'integer', minimum: 1, maximum: config.alertLimit.max },
    }),
    verification: object({
      exchange: name,
      symbol: name,
      interval,
      from: time,
      to: time,
      after: cursor,
      limit: { type: 'integer', minimum: 1, maximum: config.alertLimit.max },
    }),
  };
}

/**
 * A time parameter (already matched by its pattern) as Unix epoch ms; NaN for a date that does
 * not exist (`2024-02-30`), which Date.parse would roll over into March, and for one outside
 * 1970-01-01 to 9999-12-31 (`to=999999999999999`, year 33658, which no SQL timestamp holds).
 */
export function parseTime(value: string): number {
  const ms = parseDate(value);
  return ms >= 0 && ms <= MAX_TIME ? ms : Number.NaN;
}

function parseDate(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return Number.NaN;
  // A time without an offset is UTC, as everything tickmesh stores.
  const offset = /([zZ]|[+-]\d{2}:?\d{2})$/.test(value) || !value.includes(':');
  return Date.parse(`${value.replace(' ', 'T')}${offset ? '' : 'Z'}`);
}
