import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { createRedisCache } from '../../internal/sink/redis-cache.js';
import { reference } from '../contracts/context-store-contract.js';
import { type ApiProcess, startApiProcess } from '../harness/api-process.js';
import { endpoint, freshName } from '../harness/env.js';
import { leaseRedisDb, type RedisDbLease } from '../harness/redis-db.js';

// `tickmesh api` answers /api/v1/assets/latest from Redis first, with the default key prefix, so
// on the shared Redis it would serve whatever other tests' workers cached there. A test that runs
// the API as a process leases a Redis database of its own (test/harness/redis-db.ts): what the
// shared database holds never reaches it.

describe('a leased Redis database keeps the shared one out of an API process', () => {
  const schema = freshName('lease').replaceAll('-', '_');
  const decoy = reference({ asset: `Z${Date.now().toString(36).toUpperCase()}`, source: 'coingecko' });
  let lease: RedisDbLease;
  let api: ApiProcess;

  beforeAll(async () => {
    const store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema, poolSize: 1 });
    await store.migrate();
    await store.close();
    lease = await leaseRedisDb();
    api = await startApiProcess(['--schema', schema], { REDIS_URL: lease.url });
  }, 60_000);

  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await lease?.release();
    // The decoy leaves the shared database again.
    const shared = new Redis(endpoint('REDIS_URL'));
    await shared.srem('tickmesh:reference-assets', decoy.asset);
    await shared.del(`tickmesh:reference:${decoy.asset}`);
    shared.disconnect();
    const pool = new Pool({ connectionString: endpoint('DATABASE_URL'), max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  const latest = async () =>
    ((await (await fetch(`${api.url}/api/v1/assets/latest`)).json()) as { assets: { asset: string }[] }).assets;

  it('serves what its own database holds, not what the shared one does', async () => {
    const shared = createRedisCache({ url: endpoint('REDIS_URL') });
    await shared.putReferences([decoy]);
    await shared.close();
    expect(await latest()).toEqual([]);
    const own = createRedisCache({ url: lease.url });
    await own.putReferences([decoy]);
    await own.close();
    expect((await latest()).map((a) => a.asset)).toEqual([decoy.asset]);
  });

  it('leases each database to one test at a time', async () => {
    const other = await leaseRedisDb();
    try {
      expect(other.db).not.toBe(lease.db);
      expect(other.db).toBeGreaterThan(0);
    } finally {
      await other.release();
    }
  });
});
