import { afterEach } from 'vitest';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { apiConfig } from '../../internal/serve/api-config.js';
import { type ApiServer, createApiServer } from '../../internal/serve/api-server.js';
import type { Cache } from '../../internal/sink/cache.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { createRedisCache } from '../../internal/sink/redis-cache.js';
import type { Store } from '../../internal/sink/store.js';
import { endpoint, freshName } from '../harness/env.js';
import { defineContextRoutesSuite } from '../support/context-routes-suite.js';

// The context routes on PostgreSQL and Redis, over a real port: each test its own schema and key prefix.
const open: Array<{ server: ApiServer; store: Store; cache: Cache; close: () => Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.server.close();
    await o.close();
    await o.store.close();
    await o.cache.close();
  }
});

defineContextRoutesSuite('PostgreSQL and Redis, HTTP', async () => {
  const schema = freshName('ctxapi').replaceAll('-', '_');
  const store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema });
  await store.migrate();
  const cache = createRedisCache({ url: endpoint('REDIS_URL'), keyPrefix: `${freshName('ctxapi')}:` });
  const bus = await createNatsBus({ servers: endpoint('NATS_URL'), name: 'context-api-test' });
  const server = createApiServer({
    store,
    cache,
    bus,
    logger: silentLogger(),
    registry: createRegistry({}, false),
    config: apiConfig({
      intervals: ['1m'],
      source: { label: 'test', simulated: undefined },
      listen: { port: 0, host: '127.0.0.1' },
    }),
  });
  await server.start(new AbortController().signal);
  open.push({ server, store, cache, close: () => bus.close() });
  return {
    store,
    cache,
    get: async (path) => {
      const res = await fetch(`${server.url}${path}`);
      return { status: res.status, body: await res.json() };
    },
  };
});
