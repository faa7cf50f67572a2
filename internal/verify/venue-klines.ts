import { getJson, joinUrl } from '../ingest/rest.js';
import { type Interval, windowAfter, windowStart } from '../market/interval.js';
import { isOkxDerivative } from '../market/markets.js';
import { RateLimitedError, TickmeshError } from '../runtime/errors.js';
import { retry } from '../runtime/retry.js';
import { VENUE_REQUEST_RETRY } from '../runtime/retry-policies.js';
import { isPlainDecimal, type VenueKline } from './kline.js';
import type { RequestBudget } from './request-budget.js';

/**
 * Venues' REST klines, paged forward in windows of one page (`limit` intervals), each request
 * spaced by a RequestBudget and retried with backoff (at least the venue's Retry-After on 429
 * and 418). Pages come oldest first; each page in open time order.
 */
export interface KlineRequest {
  readonly symbol: string;
  readonly interval: Interval;
  /** Open times from `from` (inclusive, aligned down to the interval) to `to` (exclusive), Unix epoch ms. */
  readonly from: number;
  readonly to: number;
  readonly signal: AbortSignal;
}

export interface KlineSource {
  readonly venue: string;
  /** Klines a page holds at most (the venue's own maximum). */
  readonly pageSize: number;
  pages(req: KlineRequest): AsyncIterable<VenueKline[]>;
}

export interface KlineSourceOptions {
  /** Base URL of the venue's REST API (a stand-in in tests); default the venue's public one. */
  readonly restUrl?: string;
  readonly fetch?: typeof fetch;
  readonly budget: RequestBudget;
  /** Attempts per page before the error is thrown. Default 6. */
  readonly maxAttempts?: number;
  /** Called before each retry wait (logging, tests). */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** One venue's klines endpoint: its URL per window and how its answer reads. */
interface KlineEndpoint {
  readonly restUrl: string;
  readonly pageSize: number;
  /** The venue's name of an interval; undefined when it publishes no such klines. */
  intervalName(interval: Interval): string | undefined;
  /** Path and query of the page holding open times firstOpen..lastOpen inclusive. */
  path(symbol: string, interval: string, firstOpen: number, lastOpen: number, limit: number): string;
  /** The klines of an answer, any order; throws TickmeshError on an answer that is not klines. */
  read(body: unknown, symbol: string): VenueKline[];
  /** JSON.parse's reviver, for venues that print decimals as JSON numbers. */
  readonly reviver?: (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;
}

const q = encodeURIComponent;

function bad(venue: string, what: string): TickmeshError {
  return new TickmeshError('TM_REST', `${venue} klines: ${what}`);
}

function decimal(venue: string, v: unknown): string {
  if (!isPlainDecimal(v)) throw bad(venue, `a kline value is not a plain decimal: ${JSON.stringify(v)}`);
  return v;
}

function time(venue: string, v: unknown): number {
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw bad(venue, 'a kline open time is not ms');
  return n;
}

/** openTime, open, high, low, close, volume: the first six columns of Binance, Bybit and OKX rows. */
function ohlcv(venue: string, row: readonly unknown[]): { -readonly [K in keyof VenueKline]: VenueKline[K] } {
  return {
    openTime: time(venue, row[0]),
    open: decimal(venue, row[1]),
    high: decimal(venue, row[2]),
    low: decimal(venue, row[3]),
    close: decimal(venue, row[4]),
    volume: decimal(venue, row[5]),
  };
}

/**
 * Binance `GET /api/v3/klines` (spot) and `/fapi/v1/klines` (USD-M): arrays [openTime, open,
 * high, low, close, volume, closeTime, quoteVolume, count, takerBuyBase, takerBuyQuote, ignore],
 * oldest first. A row with only the first six (older archives, stand-ins) compares on those.
 */
function binance(venue: string, restUrl: string, api: string): KlineEndpoint {
  return {
    restUrl,
    pageSize: 1000,
    intervalName: (i) => i,
    path: (symbol, interval, first, last, limit) =>
      `${api}/klines?symbol=${q(symbol)}&interval=${interval}&startTime=${first}&endTime=${last}&limit=${limit}`,
    read(body) {
      if (!Array.isArray(body)) throw bad(venue, 'the answer is not an array');
      return body.map((row: unknown) => {
        if (!Array.isArray(row) || row.length < 6) throw bad(venue, 'a kline is not an array of 6 or more');
        const k = ohlcv(venue, row);
        if (row.length >= 11) {
          k.quoteVolume = decimal(venue, row[7]);
          if (!Number.isSafeInteger(row[8]) || (row[8] as number) < 0) throw bad(venue, 'a kline count is not a count');
          k.trades = row[8] as number;
          k.takerBuyVolume = decimal(venue, row[9]);
          k.takerBuyQuoteVolume = decimal(venue, row[10]);
        }
        return k;
      });
    },
  };
}

/** Bybit's names of tickmesh's intervals (REST `interval`, WebSocket `kline.<name>.<symbol>`). */
export const BYBIT_INTERVALS: Partial<Record<Interval, string>> = {
  '1m': '1',
  '3m': '3',
  '5m': '5',
  '15m': '15',
  '30m': '30',
  '1h': '60',
  '2h': '120',
  '4h': '240',
  '6h': '360',
  '12h': '720',
  '1d': 'D',
  '1w': 'W',
  '1M': 'M',
};

/**
 * Bybit `GET /v5/market/kline`: `{retCode, result: {list: [[startTime, open, high, low, close,
 * volume, turnover]]}}`, newest first, times as strings. retCode 10006 is its rate limit.
 */
function bybit(venue: string, restUrl: string, category: 'spot' | 'linear'): KlineEndpoint {
  return {
    restUrl,
    pageSize: 1000,
    intervalName: (i) => BYBIT_INTERVALS[i],
    path: (symbol, interval, first, last, limit) =>
      `/v5/market/kline?category=${category}&symbol=${q(symbol)}&interval=${interval}&start=${first}&end=${last}&limit=${limit}`,
    read(body) {
      const b = body as { retCode?: unknown; retMsg?: unknown; result?: { list?: unknown } } | null;
      if (b?.retCode === 10006) throw new RateLimitedError('bybit klines: rate limited (retCode 10006)', undefined);
      if (b?.retCode !== 0) throw bad(venue, `retCode ${String(b?.retCode)}: ${String(b?.retMsg)}`);
      const list = b.result?.list;
      if (!Array.isArray(list)) throw bad(venue, 'result.list is not an array');
      return list.map((row: unknown) => {
        if (!Array.isArray(row) || row.length < 7) throw bad(venue, 'a kline is not an array of 7');
        return { ...ohlcv(venue, row), quoteVolume: decimal(venue, row[6]) };
      });
    },
  };
}

/**
 * OKX's bars of tickmesh's intervals (REST `bar`, WebSocket channel `candle<bar>`), UTC-aligned
 * only: OKX's plain 6H and coarser open on Hong Kong time.
 */
export const OKX_BARS: Partial<Record<Interval, string>> = {
  '1m': '1m',
  '3m': '3m',
  '5m': '5m',
  '15m': '15m',
  '30m': '30m',
  '1h': '1H',
  '2h': '2H',
  '4h': '4H',
  '6h': '6Hutc',
  '12h': '12Hutc',
  '1d': '1Dutc',
  '1w': '1Wutc',
  '1M': '1Mutc',
};

/**
 * OKX `GET /api/v5/market/history-candles`: `{code: "0", data: [[ts, o, h, l, c, vol, volCcy,
 * volCcyQuote, confirm]]}`, newest first, at most 100 a page; `after` = open times below it,
 * `before` = above it. Spot: vol is base, volCcyQuote quote. Swaps count vol in contracts, so
 * their base volume is volCcy. Unconfirmed (still open) candles are left out. Code 50011 is its
 * rate limit.
 */
function okx(venue: string, restUrl: string): KlineEndpoint {
  return {
    restUrl,
    pageSize: 100,
    intervalName: (i) => OKX_BARS[i],
    path: (symbol, bar, first, last, limit) =>
      `/api/v5/market/history-candles?instId=${q(symbol)}&bar=${bar}&after=${last + 1}&before=${first - 1}&limit=${limit}`,
    read(body, symbol) {
      const swap = isOkxDerivative(symbol);
      const b = body as { code?: unknown; msg?: unknown; data?: unknown } | null;
      if (b?.code === '50011') throw new RateLimitedError('okx klines: rate limited (code 50011)', undefined);
      if (b?.code !== '0') throw bad(venue, `code ${String(b?.code)}: ${String(b?.msg)}`);
      if (!Array.isArray(b.data)) throw bad(venue, 'data is not an array');
      const out: VenueKline[] = [];
      for (const row of b.data as unknown[]) {
        if (!Array.isArray(row) || row.length < 9) throw bad(venue, 'a candle is not an array of 9');
        if (row[8] !== '1') continue;
        out.push({
          ...ohlcv(venue, row),
          ...(swap ? { volume: decimal(venue, row[6]) } : {}),
          quoteVolume: decimal(venue, row[7]),
        });
      }
      return out;
    },
  };
}

const COINBASE_GRANULARITY: Partial<Record<Interval, number>> = {
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '1h': 3600,
  '6h': 21600,
  '1d': 86400,
};

/** A JSON number's own text (`0.00001`, `1e-05`) as a plain decimal string, exactly. */
export function plainNumberText(text: string): string {
  const m = /^(\d+)(?:\.(\d+))?[eE]([+-]?\d+)$/.exec(text);
  if (!m) return text;
  const digits = `${m[1]}${m[2] ?? ''}`;
  const point = (m[1] as string).length + Number(m[3]);
  const padded = point <= 0 ? `${'0'.repeat(1 - point)}${digits}` : digits.padEnd(point, '0');
  const at = Math.max(point, 1);
  const int = padded.slice(0, at).replace(/^0+(?=\d)/, '');
  const frac = padded.slice(at);
  return frac === '' ? int : `${int}.${frac}`;
}

/**
 * Coinbase Exchange `GET /products/{id}/candles`: `[[time (s), low, high, open, close, volume]]`,
 * newest first, decimals as JSON numbers (read from their own text, never through a double),
 * at most 300 a page. Granularities 1m 5m 15m 1h 6h 1d only.
 */
function coinbase(venue: string, restUrl: string): KlineEndpoint {
  return {
    restUrl,
    pageSize: 300,
    intervalName: (i) => (COINBASE_GRANULARITY[i] === undefined ? undefined : String(COINBASE_GRANULARITY[i])),
    path: (symbol, granularity, first, last) =>
      `/products/${q(symbol)}/candles?granularity=${granularity}&start=${new Date(first).toISOString()}&end=${new Date(last).toISOString()}`,
    reviver(_key, value, context) {
      return typeof value === 'number' && context?.source !== undefined ? plainNumberText(context.source) : value;
    },
    read(body) {
      if (!Array.isArray(body)) throw bad(venue, 'the answer is not an array');
      return body.map((row: unknown) => {
        if (!Array.isArray(row) || row.length < 6) throw bad(venue, 'a candle is not an array of 6');
        const seconds = time(venue, row[0]);
        return {
          openTime: seconds * 1000,
          low: decimal(venue, row[1]),
          high: decimal(venue, row[2]),
          open: decimal(venue, row[3]),
          close: decimal(venue, row[4]),
          volume: decimal(venue, row[5]),
        };
      });
    },
  };
}

/**
 * Kraken's OHLC intervals in minutes (REST `interval`, WebSocket v2 `ohlc` `interval`). Its
 * weekly and 15-day bars are left out: their alignment is not documented and not yet checked.
 */
export const KRAKEN_MINUTES: Partial<Record<Interval, number>> = {
  '1m': 1,
  '5m': 5,
  '15m': 15,
  '30m': 30,
  '1h': 60,
  '4h': 240,
  '1d': 1440,
};

/**
 * Kraken's VWAP of a window as far as it can be compared: Kraken prints `0.0` as the VWAP of a
 * window without trades (the recorded OHLC in test/fixtures/kraken-xbtusdt-rest-2025-11-10),
 * where tickmesh's is the close. A VWAP the window does not have is left out, never compared.
 */
export function krakenVwap(vwap: string, trades: number): { vwap?: string } {
  return trades === 0 ? {} : { vwap };
}

/**
 * Kraken `GET /0/public/OHLC?pair=&interval=&since=`: `{error: [], result: {<pair>: [[time (s),
 * open, high, low, close, vwap, volume, count]], last}}`, oldest first, decimals as strings. Kraken
 * answers at most the latest 720 windows whatever `since` asks: an older window gets no kline
 * (unverifiable). The row after `last` is the window still open, left out. `EGeneral:Too many
 * requests` is its rate limit.
 */
function kraken(venue: string, restUrl: string): KlineEndpoint {
  return {
    restUrl,
    pageSize: 720,
    intervalName: (i) => (KRAKEN_MINUTES[i] === undefined ? undefined : String(KRAKEN_MINUTES[i])),
    path: (symbol, minutes, first) =>
      `/0/public/OHLC?pair=${q(symbol.replace('/', ''))}&interval=${minutes}&since=${Math.floor(first / 1000) - 1}`,
    read(body) {
      const b = body as { error?: unknown; result?: Record<string, unknown> } | null;
      const errors = Array.isArray(b?.error) ? (b.error as unknown[]) : ['no error list'];
      if (errors.some((e) => typeof e === 'string' && e.includes('Too many requests'))) {
        throw new RateLimitedError('kraken klines: rate limited', undefined);
      }
      if (errors.length > 0 || b?.result === undefined) throw bad(venue, `error ${JSON.stringify(errors)}`);
      const { last, ...pairs } = b.result;
      const rows = Object.values(pairs)[0];
      if (!Array.isArray(rows) || typeof last !== 'number') throw bad(venue, 'result holds no OHLC rows and last');
      const out: VenueKline[] = [];
      for (const row of rows as unknown[]) {
        if (!Array.isArray(row) || row.length < 8) throw bad(venue, 'an OHLC row is not an array of 8');
        const seconds = time(venue, row[0]);
        if (seconds > last) continue;
        if (!Number.isSafeInteger(row[7]) || (row[7] as number) < 0) throw bad(venue, 'an OHLC count is not a count');
        const vwap = decimal(venue, row[5]);
        out.push({
          openTime: seconds * 1000,
          open: decimal(venue, row[1]),
          high: decimal(venue, row[2]),
          low: decimal(venue, row[3]),
          close: decimal(venue, row[4]),
          ...krakenVwap(vwap, row[7] as number),
          volume: decimal(venue, row[6]),
          trades: row[7] as number,
        });
      }
      return out;
    },
  };
}

function endpoint(venue: string, restUrl: string | undefined): KlineEndpoint | undefined {
  switch (venue) {
    case 'binance':
      return binance(venue, restUrl ?? 'https://api.binance.com', '/api/v3');
    case 'binance-futures':
      return binance(venue, restUrl ?? 'https://fapi.binance.com', '/fapi/v1');
    case 'bybit':
      return bybit(venue, restUrl ?? 'https://api.bybit.com', 'spot');
    case 'bybit-linear':
      return bybit(venue, restUrl ?? 'https://api.bybit.com', 'linear');
    case 'okx':
      return okx(venue, restUrl ?? 'https://www.okx.com');
    case 'coinbase':
      return coinbase(venue, restUrl ?? 'https://api.exchange.coinbase.com');
    case 'kraken':
      return kraken(venue, restUrl ?? 'https://api.kraken.com');
    default:
      return undefined;
  }
}

/** Venues whose klines can be fetched. */
export const KLINE_VENUES = [
  'binance',
  'binance-futures',
  'bybit',
  'bybit-linear',
  'okx',
  'coinbase',
  'kraken',
] as const;

/** The kline source of `venue`; undefined when tickmesh cannot fetch its klines (yet). */
export function createKlineSource(venue: string, options: KlineSourceOptions): KlineSource | undefined {
  const ep = endpoint(venue, options.restUrl);
  if (ep === undefined) return undefined;
  return {
    venue,
    pageSize: ep.pageSize,
    async *pages(req) {
      const name = ep.intervalName(req.interval);
      if (name === undefined) throw bad(venue, `the venue publishes no ${req.interval} klines`);
      const step = (start: number, n: number) => windowAfter(req.interval, start, n);
      for (let first = windowStart(req.interval, req.from); first < req.to; first = step(first, ep.pageSize)) {
        const last = Math.min(step(first, ep.pageSize - 1), req.to - 1);
        const url = joinUrl(ep.restUrl, ep.path(req.symbol, name, first, last, ep.pageSize));
        const page = await retry(
          async () => {
            await options.budget.take(req.signal);
            const { body } = await getJson(url, {
              signal: req.signal,
              ...(options.fetch ? { fetch: options.fetch } : {}),
              ...(ep.reviver ? { reviver: ep.reviver } : {}),
            });
            return ep.read(body, req.symbol);
          },
          {
            ...VENUE_REQUEST_RETRY,
            maxAttempts: options.maxAttempts ?? VENUE_REQUEST_RETRY.maxAttempts,
            signal: req.signal,
            minDelayOf: (err) => (err instanceof RateLimitedError ? err.retryAfterMs : undefined),
            ...(options.onRetry ? { onRetry: options.onRetry } : {}),
          },
        );
        yield page.filter((k) => k.openTime >= first && k.openTime <= last).sort((a, b) => a.openTime - b.openTime);
      }
    },
  };
}
