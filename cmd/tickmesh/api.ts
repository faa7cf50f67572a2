import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { API_FLAGS, API_FLAGS_HELP, parseApiOptions } from '../../internal/config/api.js';
import { ENDPOINT_FLAGS, ENDPOINT_HELP, parseEndpoints, requireEndpoints } from '../../internal/config/endpoints.js';
import { readArgs } from '../../internal/config/parse-flags.js';
import { startProbeServer } from '../../internal/observe/http-server.js';
import { createLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { otlpExporterFromEnv, startTracing } from '../../internal/observe/tracing.js';
import { createStartupGate } from '../../internal/runtime/startup-gate.js';
import { parseApiKeys } from '../../internal/serve/api-keys.js';
import { apiConfigFromOptions } from '../../internal/serve/api-options.js';
import { type ApiServer, createApiServer } from '../../internal/serve/api-server.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { createRedisCache } from '../../internal/sink/redis-cache.js';
import type { Command } from './command.js';

const HELP = `tickmesh api: REST history, WebSocket live updates and the web dashboard

Serves candles and alerts from PostgreSQL, the latest candles and prices from Redis, and
forwards live candles, alerts and index prices from NATS to WebSocket clients (docs/API.md).
The dashboard is at / on the same port, with /healthz and a /readyz that answers 200 or 503.
/metrics, /healthz and /readyz with its reason are on --metrics-port, an internal port that
should not be published. SIGTERM drains: requests in flight finish, WebSocket clients are
closed with 1001.

endpoints (flags override the environment; Kafka is not used):
${ENDPOINT_HELP}

options:
${API_FLAGS_HELP}
`;

export const apiCommand: Command = {
  name: 'api',
  help: HELP,
  async run(argv, signal) {
    const flags = readArgs({ ...ENDPOINT_FLAGS, ...API_FLAGS }, argv);
    const endpoints = parseEndpoints(flags, process.env);
    const options = parseApiOptions(flags, process.env);
    requireEndpoints(endpoints, ['databaseUrl', 'natsUrl', 'redisUrl']);
    const keysFile = options.auth === 'keys' ? options.apiKeysFile : undefined;
    const keys = keysFile === undefined ? undefined : parseApiKeys(await readFile(keysFile, 'utf8'), keysFile);

    const logger = createLogger({ level: options.logLevel });
    const registry = createRegistry({ role: 'api' });
    const exporter = otlpExporterFromEnv(process.env);
    const tracing = startTracing({ serviceName: 'tickmesh-api', exporter });
    const clientId = `tickmesh-api-${hostname()}-${process.pid}`;
    // The probe port answers from the start: until PostgreSQL and NATS answer, not Ready, the
    // reason on /readyz and in one log line, while this process retries (StartupGate).
    const gate = createStartupGate({ logger, signal });
    let server: ApiServer | undefined;
    const probes = await startProbeServer(
      {
        registry,
        healthy: () => true,
        notReadyReason: () => gate.reason() ?? (server ? server.notReadyReason() : 'starting'),
      },
      options.metricsPort,
      options.host,
    );
    const store = createPostgresStore({
      connectionString: endpoints.databaseUrl,
      security: endpoints.postgresSecurity,
      schema: options.schema,
      applicationName: clientId,
    });
    // Without --migrate the first request is the first to reach PostgreSQL.
    const reached =
      !options.migrate ||
      (await gate.until('postgres', async () => {
        await store.migrate();
        return true;
      }));
    const bus = reached
      ? await gate.until('nats', () =>
          createNatsBus({ servers: endpoints.natsUrl, security: endpoints.natsSecurity, name: clientId, logger }),
        )
      : undefined;
    if (!bus) {
      await Promise.allSettled([store.close(), probes.close(), tracing.shutdown()]);
      return 0;
    }
    gate.open();
    const cache = createRedisCache({ url: endpoints.redisUrl, security: endpoints.redisSecurity });
    server = createApiServer({
      store,
      cache,
      bus,
      logger,
      registry,
      config: apiConfigFromOptions(options, keys),
      tracer: tracing.enabled ? tracing.tracer : undefined,
    });
    const run = new AbortController();
    await server.start(run.signal);
    logger.info(
      {
        url: server.url,
        dashboard: `${server.url}/`,
        metricsPort: probes.port,
        auth: options.auth,
        keys: keys?.length,
      },
      'api running',
    );

    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info('draining');
    let code = 0;
    try {
      await server.drain();
    } catch (err) {
      logger.error({ err }, 'drain failed');
      code = 1;
    }
    run.abort();
    await Promise.allSettled([bus.close(), cache.close(), store.close(), probes.close()]);
    await tracing.shutdown();
    logger.info('api stopped');
    return code;
  },
};
