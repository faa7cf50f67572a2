import { Redis } from 'ioredis';
import type { RedisSecurity } from '../config/connection-security.js';
import { readSecretFile, tlsFailure } from '../config/secret-file.js';
import type { Candle } from '../market/candle.js';
import { candleJson } from '../market/candle-json.js';
import type { ReferenceRecord } from '../market/context.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import type { Interval } from '../market/interval.js';
import { ConnectionSecurityError, UnavailableError } from '../runtime/errors.js';
import type { Cache, LatestPrice } from './cache.js';

/**
 * The Cache on Redis. Each entry is a hash holding the JSON value and its ordering fields; a Lua
 * script compares and writes in one atomic step, so concurrent or out-of-order writers never
 * replace a newer value (same rule as cache.ts: candleIsNewer, priceIsNewer). One script call
 * writes a whole batch, so its keys must live on one server: a Redis Cluster is not supported.
 *
 * Keys (docs/STORAGE.md): `<prefix>candle:<exchange>:<symbol>:<interval>`,
 * `<prefix>indicators:<exchange>:<symbol>:<interval>`, `<prefix>price:<exchange>:<symbol>` and
 * `<prefix>reference:<asset>` (the set `<prefix>reference-assets` names them), fields `v` (JSON)
 * plus ot/rev/cl/tr (indicators, reference data: their time, the rest fixed) or t/id.
 */
export interface RedisCacheOptions {
  /** `redis://host:port/db` (REDIS_URL). */
  readonly url: string;
  /** Prefix of every key. Default `tickmesh:`. */
  readonly keyPrefix?: string;
  /** How long a command waits for a connection before it fails, ms. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /** TLS, ACL user and password file (Endpoints.redisSecurity); `rediss://` means TLS too. */
  readonly security?: RedisSecurity | undefined;
}

// One call writes a whole batch: per key (in KEYS order) five ARGV entries ot, rev, cl, tr, v;
// returns 1 for each one written. Fields compared in order; an equal tuple is not newer.
const PUT_CANDLES = `
local out = {}
for k = 1, #KEYS do
  local a0 = (k - 1) * 5
  local cur = redis.call('HMGET', KEYS[k], 'ot', 'rev', 'cl', 'tr')
  local newer = true
  if cur[1] then
    newer = false
    for i = 1, 4 do
      local a = tonumber(ARGV[a0 + i])
      local b = tonumber(cur[i])
      if a > b then
        newer = true
        break
      end
      if a < b then break end
    end
  end
  if newer then
    redis.call('HSET', KEYS[k], 'ot', ARGV[a0 + 1], 'rev', ARGV[a0 + 2], 'cl', ARGV[a0 + 3], 'tr', ARGV[a0 + 4], 'v', ARGV[a0 + 5])
    out[k] = 1
  else
    out[k] = 0
  end
end
return out`;

// Per key three ARGV entries t, id, v.
const PUT_PRICES = `
local out = {}
for k = 1, #KEYS do
  local a0 = (k - 1) * 3
  local t, id = ARGV[a0 + 1], ARGV[a0 + 2]
  local cur = redis.call('HMGET', KEYS[k], 't', 'id')
  local newer = true
  if cur[1] then
    local tn, ct = tonumber(t), tonumber(cur[1])
    if tn < ct then
      newer = false
    elseif tn == ct then
      local cid = cur[2]
      if id == cid then
        newer = false
      elseif string.match(id, '^%d+$') and string.match(cid, '^%d+$') and #id ~= #cid then
        newer = #id > #cid
      else
        newer = id > cid
      end
    end
  end
  if newer then
    redis.call('HSET', KEYS[k], 't', t, 'id', id, 'v', ARGV[a0 + 3])
    out[k] = 1
  else
    out[k] = 0
  end
end
return out`;

/**
 * Entries per script call. A script blocks the server while it runs (about a microsecond per
 * entry); one call per entry cost the worker more in ioredis's per-command work than the writes.
 */
const CHUNK = 1_000;

type ScriptRedis = Redis & {
  tmPutCandles(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number[]>;
  tmPutPrices(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number[]>;
};

export class RedisCache implements Cache {
  private readonly redis: ScriptRedis;
  private readonly prefix: string;
  private lastConnectionError: Error | undefined;

  constructor(options: RedisCacheOptions) {
    this.prefix = options.keyPrefix ?? 'tickmesh:';
    const sec = options.security;
    const tls = sec?.tls ?? (options.url.startsWith('rediss://') ? {} : undefined);
    const redis = new Redis(sec?.username || sec?.passwordFile ? withoutCredentials(options.url) : options.url, {
      ...(tls
        ? {
            tls: {
              rejectUnauthorized: true,
              ...(tls.caFile ? { ca: readSecretFile(tls.caFile, 'REDIS_TLS_CA_FILE') } : {}),
              ...(tls.certFile ? { cert: readSecretFile(tls.certFile, 'REDIS_TLS_CERT_FILE') } : {}),
              ...(tls.keyFile ? { key: readSecretFile(tls.keyFile, 'REDIS_TLS_KEY_FILE') } : {}),
            },
          }
        : {}),
      ...(sec?.username || sec?.passwordFile ? credentials(options.url, sec) : {}),
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      // Fail a command after one reconnect attempt instead of queueing it forever: the caller
      // retries by `retriable` and the outage shows in its metrics.
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    });
    // The connection's own errors (a refused AUTH, a failed handshake) reach a command only as
    // "max retries": the last one is kept to say why.
    redis.on('error', (err: Error) => {
      this.lastConnectionError = err;
    });
    // No fixed numberOfKeys: each call passes its key count first.
    redis.defineCommand('tmPutCandles', { lua: PUT_CANDLES });
    redis.defineCommand('tmPutPrices', { lua: PUT_PRICES });
    this.redis = redis as ScriptRedis;
  }

  async putCandles(candles: readonly Candle[]): Promise<boolean[]> {
    return this.putBatch(candles, 'tmPutCandles', (c, keys, args) => {
      keys.push(this.candleKey(c.exchange, c.symbol, c.interval));
      args.push(c.openTime, c.revision, c.closed ? 1 : 0, c.trades, candleJson(c));
    });
  }

  async latestCandle(exchange: string, symbol: string, interval: Interval): Promise<Candle | null> {
    const v = await this.call(() => this.redis.hget(this.candleKey(exchange, symbol, interval), 'v'));
    return v === null ? null : (JSON.parse(v) as Candle);
  }

  async putIndicators(values: readonly IndicatorValues[]): Promise<boolean[]> {
    // The candles' script with constant revision, closed and trades: newer by open time alone.
    return this.putBatch(values, 'tmPutCandles', (v, keys, args) => {
      keys.push(this.indicatorsKey(v.exchange, v.symbol, v.interval));
      args.push(v.openTime, 0, 1, 0, JSON.stringify(v));
    });
  }

  async latestIndicators(exchange: string, symbol: string, interval: Interval): Promise<IndicatorValues | null> {
    const v = await this.call(() => this.redis.hget(this.indicatorsKey(exchange, symbol, interval), 'v'));
    return v === null ? null : (JSON.parse(v) as IndicatorValues);
  }

  async putPrices(prices: readonly LatestPrice[]): Promise<boolean[]> {
    return this.putBatch(prices, 'tmPutPrices', (x, keys, args) => {
      keys.push(this.priceKey(x.exchange, x.symbol));
      args.push(x.time, x.tradeId, JSON.stringify(x));
    });
  }

  async latestPrice(exchange: string, symbol: string): Promise<LatestPrice | null> {
    const v = await this.call(() => this.redis.hget(this.priceKey(exchange, symbol), 'v'));
    return v === null ? null : (JSON.parse(v) as LatestPrice);
  }

  async putReferences(records: readonly ReferenceRecord[]): Promise<boolean[]> {
    if (records.length === 0) return [];
    await this.call(() => this.redis.sadd(`${this.prefix}reference-assets`, ...records.map((r) => r.asset)));
    // The candles' script with constant revision, closed and trades: newer by the source's time alone.
    return this.putBatch(records, 'tmPutCandles', (r, keys, args) => {
      keys.push(`${this.prefix}reference:${r.asset}`);
      args.push(r.time, 0, 1, 0, JSON.stringify(r));
    });
  }

  async latestReferences(): Promise<ReferenceRecord[]> {
    const assets = (await this.call(() => this.redis.smembers(`${this.prefix}reference-assets`))).sort();
    if (assets.length === 0) return [];
    const values = await this.call(() =>
      Promise.all(assets.map((a) => this.redis.hget(`${this.prefix}reference:${a}`, 'v'))),
    );
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as ReferenceRecord);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private candleKey(exchange: string, symbol: string, interval: string): string {
    return `${this.prefix}candle:${exchange}:${symbol}:${interval}`;
  }

  private indicatorsKey(exchange: string, symbol: string, interval: string): string {
    return `${this.prefix}indicators:${exchange}:${symbol}:${interval}`;
  }

  private priceKey(exchange: string, symbol: string): string {
    return `${this.prefix}price:${exchange}:${symbol}`;
  }

  /**
   * Writes `items` with `script`, at most CHUNK per call, in order; one flag per item. `entry`
   * appends an item's key and its ARGV entries.
   */
  private async putBatch<T>(
    items: readonly T[],
    script: 'tmPutCandles' | 'tmPutPrices',
    entry: (item: T, keys: string[], args: Array<string | number>) => void,
  ): Promise<boolean[]> {
    if (items.length === 0) return [];
    const calls: Array<Promise<number[]>> = [];
    for (let i = 0; i < items.length; i += CHUNK) {
      const keys: string[] = [];
      const args: Array<string | number> = [];
      for (const item of items.slice(i, i + CHUNK)) entry(item, keys, args);
      calls.push(this.call(() => this.redis[script](keys.length, ...keys, ...args)));
    }
    const written = await Promise.all(calls);
    return written.flat().map((w) => w === 1);
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const refused = redisSecurityFailure(err) ?? redisSecurityFailure(this.lastConnectionError);
      if (refused) throw new ConnectionSecurityError('redis', refused, { cause: err });
      throw classify(err);
    }
  }
}

/**
 * The ACL user and password: the settings' over the URL's. ioredis lets the URL's win over its
 * options and reads a lone user (`rediss://user@host`) as a password, so the URL loses its
 * credentials (withoutCredentials) when the settings give any.
 */
function credentials(url: string, sec: RedisSecurity): { username?: string; password?: string } {
  const u = new URL(url);
  const username = sec.username ?? (u.username === '' ? undefined : decodeURIComponent(u.username));
  const password = sec.passwordFile
    ? readSecretFile(sec.passwordFile, 'REDIS_PASSWORD_FILE')
    : u.password === ''
      ? undefined
      : decodeURIComponent(u.password);
  return { ...(username ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}

function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** Why the server refused this client (ACL login or TLS); undefined for anything else. */
function redisSecurityFailure(err: unknown): string | undefined {
  if (!err) return undefined;
  const tls = tlsFailure(err);
  if (tls) return tls;
  const message = (err as { message?: string }).message ?? '';
  if (/WRONGPASS|NOAUTH|NOPERM|invalid username-password/i.test(message)) {
    return `the server refused the login (${message})`;
  }
  return undefined;
}

/** Connection-level failures are retriable; a script or type error is not. */
function classify(err: unknown): unknown {
  const e = err as { name?: string; code?: string; message?: string } | null;
  const message = e?.message ?? '';
  if (
    e?.name === 'MaxRetriesPerRequestError' ||
    /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection is closed|LOADING|READONLY|MASTERDOWN|TRYAGAIN/.test(
      `${e?.code ?? ''} ${message}`,
    )
  ) {
    return new UnavailableError('redis unavailable', { cause: err });
  }
  return err;
}

export function createRedisCache(options: RedisCacheOptions): Cache {
  return new RedisCache(options);
}
