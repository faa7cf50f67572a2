import { createMemoryBus } from '../../bus/memory-bus.js';
import { silentLogger } from '../../observe/logger.js';
import { createRegistry } from '../../observe/metrics.js';
import { createMemoryCache } from '../../sink/memory-cache.js';
import { apiConfig } from '../api-config.js';
import { type ApiServer, type ApiServerDeps, createApiServer } from '../api-server.js';

/**
 * For tests: an API server on an empty store (or the given store's methods) and in-process bus
 * and cache, started; `beforeStart` may add hooks while the app is not ready yet.
 */
export async function startStorelessApi(
  over: Parameters<typeof apiConfig>[0] = {},
  opts: {
    store?: Partial<ApiServerDeps['store']>;
    bus?: ApiServerDeps['bus'];
    beforeStart?: (server: ApiServer) => void;
  } = {},
): Promise<ApiServer> {
  const server = createApiServer({
    store: {
      candles: async () => [],
      indicators: async () => [],
      alerts: async () => [],
      predictions: async () => [],
      markets: async () => [],
      ...opts.store,
    },
    cache: createMemoryCache(),
    bus: opts.bus ?? createMemoryBus(),
    logger: silentLogger(),
    registry: createRegistry({}, false),
    config: apiConfig(over),
  });
  opts.beforeStart?.(server);
  await server.start(new AbortController().signal);
  return server;
}
