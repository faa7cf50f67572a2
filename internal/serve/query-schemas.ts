import type { Interval } from '../market/interval.js';
import type { ApiConfig } from './api-config.js';

/**
 * JSON schemas of the REST query strings, checked by Fastify before a handler runs: a request
 * that does not match gets a 400 naming the parameter. Unknown parameters are refused too, so
 * a typo (`intreval`) is an error rather than a silently ignored filter.
 */
const name = { type: 'string', minLength: 1, maxLength: 64, pattern: '^\\S+$' } as const;

/** Unix epoch milliseconds, or an ISO 8601 date or time (`2024-01-15`, `2024-01-15T10:00:00Z`). */
const time = {
  type: 'string',
  pattern: '^(\\d{1,15}|\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})?)?)$',
} as const;

export interface MarketQuery {
  readonly exchange: string;
  readonly symbol: string;
}
export interface CandlesQuery extends MarketQuery {
  readonly interval: Interval;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
}
export interface LatestCandleQuery extends MarketQuery {
  readonly interval: Interval;
}
export interface AlertsQuery {
  readonly exchange?: string;
  readonly symbol?: string;
  readonly from?: string;
  readonly to?: string;
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
  return {
    markets: object({ interval }),
    candles: object(
      {
        exchange: name,
        symbol: name,
        interval,
        from: time,
        to: time,
        limit: { type: 'integer', minimum: 1, maximum: config.candleLimit.max },
      },
      ['exchange', 'symbol', 'interval'],
    ),
    latestCandle: object({ exchange: name, symbol: name, interval }, ['exchange', 'symbol', 'interval']),
    latestPrice: object({ exchange: name, symbol: name }, ['exchange', 'symbol']),
    alerts: object({
      exchange: name,
      symbol: name,
      from: time,
      to: time,
      limit: { type: 'integer', minimum: 1, maximum: config.alertLimit.max },
    }),
  };
}

/**
 * A time parameter (already matched by its pattern) as Unix epoch ms; NaN for a date that does
 * not exist (`2024-02-30`), which Date.parse would roll over into March.
 */
export function parseTime(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return Number.NaN;
  // A time without an offset is UTC, as everything tickmesh stores.
  const offset = /([zZ]|[+-]\d{2}:?\d{2})$/.test(value) || !value.includes(':');
  return Date.parse(`${value.replace(' ', 'T')}${offset ? '' : 'Z'}`);
}
