import { Redis } from 'ioredis';
import type { Candle } from '../market/candle.js';
import type { Interval } from '../market/interval.js';
import { UnavailableError } from '../runtime/errors.js';
import type { Cache, LatestPrice } from './cache.js';

/**
 * The Cache on Redis. Each entry is a hash holding the JSON value and its ordering fields; a Lua
 * script compares and writes in one atomic step, so concurrent or out-of-order writers never
 * replace a newer value (same rule as cache.ts: candleIsNewer, priceIsNewer).
 *
 * Keys (docs/STORAGE.md): `<prefix>candle:<exchange>:<symbol>:<interval>` and
 * `<prefix>price:<exchange>:<symbol>`, fields `v` (JSON) plus ot/rev/cl/tr or t/id.
 */
export interface RedisCacheOptions {
  /** `redis://host:port/db` (REDIS_URL). */
  readonly url: string;
  /** Prefix of every key. Default `tickmesh:`. */
  readonly keyPrefix?: string;
  /** How long a command waits for a connection before it fails, ms. Default 5,000. */
  readonly connectTimeoutMs?: number;
}

// Returns 1 when written. Fields compared in order; an equal tuple is not newer.
const PUT_CANDLE = `
local cur = redis.call('HMGET', KEYS[1], 'ot', 'rev', 'cl', 'tr')
if cur[1] then
  for i = 1, 4 do
    local a = tonumber(ARGV[i])
    local b = tonumber(cur[i])
    if a > b then break end
    if a < b or i == 4 then return 0 end
  end
end
redis.call('HSET', KEYS[1], 'ot', ARGV[1], 'rev', ARGV[2], 'cl', ARGV[3], 'tr', ARGV[4], 'v', ARGV[5])
return 1`;

const PUT_PRICE = `
local cur = redis.call('HMGET', KEYS[1], 't', 'id')
if cur[1] then
  local t, ct = tonumber(ARGV[1]), tonumber(cur[1])
  if t < ct then return 0 end
  if t == ct then
    local id, cid = ARGV[2], cur[2]
    if id == cid then return 0 end
    local older
    if string.match(id, '^%d+$') and string.match(cid, '^%d+$') and #id ~= #cid then
      older = #id < #cid
    else
      older = id < cid
    end
    if older then return 0 end
  end
end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'id', ARGV[2], 'v', ARGV[3])
return 1`;

type ScriptRedis = Redis & {
  tmPutCandle(key: string, ot: number, rev: number, cl: number, tr: number, v: string): Promise<number>;
  tmPutPrice(key: string, t: number, id: string, v: string): Promise<number>;
};

export class RedisCache implements Cache {
  private readonly redis: ScriptRedis;
  private readonly prefix: string;

  constructor(options: RedisCacheOptions) {
    this.prefix = options.keyPrefix ?? 'tickmesh:';
    const redis = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      // Fail a command after one reconnect attempt instead of queueing it forever: the caller
      // retries by `retriable` and the outage shows in its metrics.
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    });
    redis.on('error', () => {});
    redis.defineCommand('tmPutCandle', { numberOfKeys: 1, lua: PUT_CANDLE });
    redis.defineCommand('tmPutPrice', { numberOfKeys: 1, lua: PUT_PRICE });
    this.redis = redis as ScriptRedis;
  }

  async putCandles(candles: readonly Candle[]): Promise<boolean[]> {
    if (candles.length === 0) return [];
    const p = this.redis.pipeline() as unknown as ScriptRedis;
    for (const c of candles) {
      void p.tmPutCandle(
        this.candleKey(c.exchange, c.symbol, c.interval),
        c.openTime,
        c.revision,
        c.closed ? 1 : 0,
        c.trades,
        JSON.stringify(c),
      );
    }
    return this.exec(p);
  }

  async latestCandle(exchange: string, symbol: string, interval: Interval): Promise<Candle | null> {
    const v = await this.call(() => this.redis.hget(this.candleKey(exchange, symbol, interval), 'v'));
    return v === null ? null : (JSON.parse(v) as Candle);
  }

  async putPrices(prices: readonly LatestPrice[]): Promise<boolean[]> {
    if (prices.length === 0) return [];
    const p = this.redis.pipeline() as unknown as ScriptRedis;
    for (const x of prices)
      void p.tmPutPrice(this.priceKey(x.exchange, x.symbol), x.time, x.tradeId, JSON.stringify(x));
    return this.exec(p);
  }

  async latestPrice(exchange: string, symbol: string): Promise<LatestPrice | null> {
    const v = await this.call(() => this.redis.hget(this.priceKey(exchange, symbol), 'v'));
    return v === null ? null : (JSON.parse(v) as LatestPrice);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private candleKey(exchange: string, symbol: string, interval: string): string {
    return `${this.prefix}candle:${exchange}:${symbol}:${interval}`;
  }

  private priceKey(exchange: string, symbol: string): string {
    return `${this.prefix}price:${exchange}:${symbol}`;
  }

  private async exec(pipeline: ScriptRedis): Promise<boolean[]> {
    const results = await this.call(() => (pipeline as unknown as ReturnType<Redis['pipeline']>).exec());
    if (!results) throw new UnavailableError('redis pipeline discarded');
    return results.map(([err, written]) => {
      if (err) throw classify(err);
      return written === 1;
    });
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classify(err);
    }
  }
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
