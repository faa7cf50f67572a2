import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { defineContextRoutesSuite } from '../../test/support/context-routes-suite.js';
import { createMemoryBus } from '../bus/memory-bus.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore } from '../sink/pglite-store.js';
import { apiConfig } from './api-config.js';
import { type ApiServer, createApiServer } from './api-server.js';

// One PGlite for the file (starting one takes seconds); each test gets a fresh schema.
let database: PGlite;
let n = 0;
beforeAll(async () => {
  database = await PGlite.create();
}, 120_000);
afterAll(() => database.close());
const servers: ApiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

defineContextRoutesSuite('PGlite, inject()', async () => {
  const store = await createPgliteStore({ database, schema: `routes_${++n}` });
  await store.migrate();
  const cache = createMemoryCache();
  const server = createApiServer({
    store,
    cache,
    bus: createMemoryBus(),
    logger: silentLogger(),
    registry: createRegistry({}, false),
    config: apiConfig({ intervals: ['1m'], source: { label: 'test', simulated: undefined } }),
  });
  servers.push(server);
  await server.start(new AbortController().signal);
  return {
    store,
    cache,
    get: async (url) => {
      const r = await server.app.inject({ method: 'GET', url });
      return { status: r.statusCode, body: r.json() };
    },
  };
});
