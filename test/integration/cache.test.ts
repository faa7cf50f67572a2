import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../internal/runtime/errors.js';
import { createRedisCache } from '../../internal/sink/redis-cache.js';
import { defineCacheContract } from '../contracts/cache-contract.js';
import { candle } from '../contracts/store-contract.js';
import { endpoint, freshName } from '../harness/env.js';

defineCacheContract('redis', async () => {
  const cache = createRedisCache({ url: endpoint('REDIS_URL'), keyPrefix: `${freshName('cache')}:` });
  return { cache, fresh: (prefix) => freshName(prefix), close: () => cache.close() };
});

describe('Redis cache', () => {
  it('concurrent writers from two connections keep the newest candle', async () => {
    const keyPrefix = `${freshName('cache')}:`;
    const a = createRedisCache({ url: endpoint('REDIS_URL'), keyPrefix });
    const b = createRedisCache({ url: endpoint('REDIS_URL'), keyPrefix });
    try {
      const writes = Array.from({ length: 200 }, (_, i) => candle({ trades: i, closed: false }));
      const shuffled = [...writes].sort(() => Math.random() - 0.5);
      await Promise.all([
        ...shuffled.slice(0, 100).map((c) => a.putCandles([c])),
        ...shuffled.slice(100).map((c) => b.putCandles([c])),
      ]);
      expect((await a.latestCandle('binance', 'BTCUSDT', '1m'))?.trades).toBe(199);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a server that cannot be reached surfaces as a retriable UnavailableError', async () => {
    const cache = createRedisCache({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 500 });
    try {
      await expect(cache.latestPrice('binance', 'BTCUSDT')).rejects.toBeInstanceOf(UnavailableError);
      await expect(cache.putCandles([candle()])).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      await cache.close();
    }
  });
});
