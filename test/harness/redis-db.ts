import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { endpoint } from './env.js';

/** Lease keys in database 0 of the shared Redis; a lease outlives no test by more than this. */
const LEASE_MS = 30 * 60_000;
const LEASE_KEY = (db: number) => `tickmesh-test:redis-db-lease:${db}`;

export interface RedisDbLease {
  /** REDIS_URL with the leased database: for a process (`tickmesh api`) or createRedisCache. */
  readonly url: string;
  readonly db: number;
  release(): Promise<void>;
}

/**
 * A database of the shared Redis for this test alone, empty: for a process that reads Redis with
 * tickmesh's default key prefix (`tickmesh api`, a worker), which a fresh key prefix cannot reach.
 * Database 0 stays everyone else's; 1..15 are leased one test at a time (a key per database in
 * database 0, set only when absent, with an expiry in case a test dies without releasing it).
 * Waits for a free one up to `waitMs`.
 */
export async function leaseRedisDb(waitMs = 120_000): Promise<RedisDbLease> {
  const base = endpoint('REDIS_URL');
  const admin = new Redis(base, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  const owner = randomBytes(8).toString('hex');
  const databases = Number((await admin.config('GET', 'databases'))[1] ?? 16);
  const until = Date.now() + waitMs;
  try {
    for (;;) {
      for (let db = 1; db < databases; db++) {
        if ((await admin.set(LEASE_KEY(db), owner, 'PX', LEASE_MS, 'NX')) !== 'OK') continue;
        const url = new URL(base);
        url.pathname = `/${db}`;
        const leased = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 1 });
        await leased.connect();
        await leased.flushdb();
        leased.disconnect();
        return {
          url: url.toString(),
          db,
          release: async () => {
            const r = new Redis(base, { lazyConnect: true, maxRetriesPerRequest: 1 });
            await r.connect();
            try {
              if ((await r.get(LEASE_KEY(db))) === owner) await r.del(LEASE_KEY(db));
            } finally {
              r.disconnect();
            }
          },
        };
      }
      if (Date.now() > until) throw new Error(`no free Redis database of ${databases - 1} in ${waitMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    admin.disconnect();
  }
}
