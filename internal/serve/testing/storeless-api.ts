import { createMemoryBus } from '../../bus/memory-bus.js';
import { silentLogger } from '../../observe/logger.js';
import { createRegistry } from '../../observe/metrics.js';
import { createMemoryCache } from '../../sink/memory-cache.js';
import { apiConfig } from '../api-config.js';
import { type ApiServer, createApiServer } from '../api-server.js';

/** For tests: an API server on an empty store and in-process bus and cache, started. */
export async function startStorelessApi(over: Parameters<typeof apiConfig>[0] = {}): Promise<ApiServer> {
  const server = createApiServer({
    store: {
      candles: async () => [],
      indicators: async () => [],
      alerts: async () => [],
      predictions: async () => [],
      markets: async () => [],
    },
    cache: createMemoryCache(),
    bus: createMemoryBus(),
    logger: silentLogger(),
    registry: createRegistry({}, false),
    config: apiConfig(over),
  });
  await server.start(new AbortController().signal);
  return server;
}
