import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, freshName } from '../harness/env.js';

describe('redis (real server from test/infra/redis.sh)', () => {
  let redis: Redis;
  const prefix = `${freshName('redis')}:`;

  beforeAll(async () => {
    redis = new Redis(endpoint('REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('sets and gets values under a fresh key prefix', async () => {
    expect(await redis.set(`${prefix}candle`, '{"close":"101.25"}')).toBe('OK');
    expect(await redis.get(`${prefix}candle`)).toBe('{"close":"101.25"}');
    expect(await redis.get(`${prefix}missing`)).toBeNull();
  });

  it('overwrites, expires and deletes', async () => {
    await redis.set(`${prefix}k`, 'one');
    await redis.set(`${prefix}k`, 'two', 'PX', 60_000);
    expect(await redis.get(`${prefix}k`)).toBe('two');
    const ttl = await redis.pttl(`${prefix}k`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await redis.del(`${prefix}k`)).toBe(1);
    expect(await redis.exists(`${prefix}k`)).toBe(0);
  });

  it('runs a MULTI transaction atomically', async () => {
    const results = await redis.multi().incrby(`${prefix}n`, 5).incrby(`${prefix}n`, 7).get(`${prefix}n`).exec();
    expect(results?.map(([err, value]) => [err, value])).toEqual([
      [null, 5],
      [null, 12],
      [null, '12'],
    ]);
  });
});
