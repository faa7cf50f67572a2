import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoints } from '../../internal/config/endpoints.js';
import { ConnectionSecurityError } from '../../internal/runtime/errors.js';
import type { LatestPrice } from '../../internal/sink/cache.js';
import { createRedisCache } from '../../internal/sink/redis-cache.js';
import { secretFile, strangerCa } from '../harness/certs.js';
import { freshName } from '../harness/env.js';
import { type PrivateServers, startPrivateServers } from '../harness/private-servers.js';

// A Redis of this file's own with a TLS port (the test CA) and an ACL user
// (test/infra/redis.sh, TICKMESH_REDIS_TLS=1).
let servers: PrivateServers;
let ca: string;
let tlsHostPort: string;

beforeAll(async () => {
  servers = await startPrivateServers(['redis'], { TICKMESH_REDIS_TLS: '1' });
  ca = join(servers.env.TEST_CERTS!, 'ca.pem');
  tlsHostPort = servers.env.TEST_REDIS_TLS_URL!.replace(/^rediss:\/\//, '');
}, 60_000);

afterAll(async () => {
  await servers?.close();
}, 60_000);

/** Writes and reads a price through a cache built from the environment; the error, if any. */
async function roundTrip(env: Record<string, string>): Promise<unknown> {
  const endpoints = parseEndpoints({}, env);
  const cache = createRedisCache({
    url: endpoints.redisUrl!,
    security: endpoints.redisSecurity,
    keyPrefix: `${freshName('tm-secure')}:`,
    connectTimeoutMs: 3_000,
  });
  const price: LatestPrice = {
    exchange: 'binance',
    symbol: 'BTCUSDT',
    market: 'spot',
    price: '1.5',
    time: 1,
    tradeId: '1',
  };
  try {
    expect(await cache.putPrices([price])).toEqual([true]);
    expect(await cache.latestPrice('binance', 'BTCUSDT')).toEqual(price);
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await cache.close();
  }
}

describe('Redis with TLS and an ACL user', () => {
  it('rediss:// with the user in the URL and the password from a file', async () => {
    const err = await roundTrip({
      REDIS_URL: `rediss://${servers.env.TEST_REDIS_USER}@${tlsHostPort}`,
      REDIS_TLS_CA_FILE: ca,
      REDIS_PASSWORD_FILE: secretFile('password', servers.env.TEST_REDIS_PASSWORD!),
    });
    expect(err).toBeUndefined();
  }, 30_000);

  it('user and password in the URL', async () => {
    const err = await roundTrip({
      REDIS_URL: `rediss://${servers.env.TEST_REDIS_USER}:${servers.env.TEST_REDIS_PASSWORD}@${tlsHostPort}`,
      REDIS_TLS_CA_FILE: ca,
    });
    expect(err).toBeUndefined();
  }, 30_000);

  it('a wrong password is a ConnectionSecurityError naming redis', async () => {
    const err = await roundTrip({
      REDIS_URL: `rediss://${servers.env.TEST_REDIS_USER}:wrong@${tlsHostPort}`,
      REDIS_TLS_CA_FILE: ca,
    });
    expect(err).toBeInstanceOf(ConnectionSecurityError);
    expect((err as Error).message).toMatch(/^redis: the server refused the login/);
  }, 30_000);

  it('a CA the server certificate does not chain to is a ConnectionSecurityError', async () => {
    const err = await roundTrip({
      REDIS_URL: `rediss://${servers.env.TEST_REDIS_USER}:${servers.env.TEST_REDIS_PASSWORD}@${tlsHostPort}`,
      REDIS_TLS_CA_FILE: strangerCa(),
    });
    expect(err).toBeInstanceOf(ConnectionSecurityError);
    expect((err as Error).message).toMatch(/^redis: .*certificate does not verify/);
  }, 30_000);
});
