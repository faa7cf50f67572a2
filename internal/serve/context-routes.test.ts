import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { defineContextRoutesSuite } from '../../test/support/context-routes-suite.js';
import { createMemoryBus } from '../bus/memory-bus.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore } from '../sink/pglite-store.js';
import { apiConfig } from './api-config.js';
import { type ApiServer, createApiServer } from './api-server.js';
import { type ResponseConformance, watchResponses } from './testing/response-conformance.js';

// One PGlite for the file (starting one takes seconds); each test gets a fresh schema.
let database: PGlite;
let n = 0;
beforeAll(async () => {
  database = await PGlite.create();
}, 120_000);
afterAll(() => database.close());
const servers: ApiServer[] = [];
const watched: ResponseConformance[] = [];
afterEach(async () => {
  // Every answer of the suite matches the route's response schema in the OpenAPI document.
  for (const c of watched.splice(0)) expect(await c.violations()).toEqual([]);
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
  watched.push(watchResponses(server.app));
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
