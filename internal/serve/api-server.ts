import websocket from '@fastify/websocket';
import type { Tracer } from '@opentelemetry/api';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifySchemaValidationError,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Bus } from '../bus/bus.js';
import type { Component } from '../runtime/component.js';
import { TickmeshError } from '../runtime/errors.js';
import type { Cache } from '../sink/cache.js';
import type { Store } from '../sink/store.js';
import { redactApiKey, registerApiAuth } from './api-auth.js';
import type { ApiConfig } from './api-config.js';
import { registerFrontDoorLimits } from './api-limits.js';
import { createApiMetrics } from './api-metrics.js';
import { registerRequestTracing } from './api-tracing.js';
import { registerAsyncApiRoute } from './asyncapi.js';
import { type ContextRoutesContext, registerContextRoutes } from './context-routes.js';
import { registerDashboard } from './dashboard.js';
import { createMarketDirectory } from './market-directory.js';
import { registerOpenApi, registerOpenApiRoute } from './openapi.js';
import { registerResponseSchemas } from './response-schemas.js';
import { isSimulated, registerRestRoutes } from './rest-routes.js';
import { registerStreamRoute } from './stream-route.js';
import type { StreamSession } from './stream-session.js';
import { registerVerificationRoutes, type VerificationRoutesContext } from './verification-routes.js';

export interface ApiServerDeps {
  readonly store: Pick<Store, 'candles' | 'indicators' | 'alerts' | 'markets' | 'predictions'> &
    Partial<ContextRoutesContext['store']> &
    Partial<VerificationRoutesContext['store']>;
  readonly cache: Pick<Cache, 'latestCandle' | 'latestIndicators' | 'latestPrice'> &
    Partial<Pick<Cache, 'latestReferences'>>;
  readonly bus: Pick<Bus, 'subscribe'>;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly config: ApiConfig;
  readonly clock?: () => number;
  /**
   * Other parts this process needs, by name (the embedded mode passes its worker and ingest),
   * each giving why it is not ready or undefined. The public /readyz answers 200 or 503 and
   * nothing more; notReadyReason() (for the internal probe port) names the part and its reason.
   */
  readonly dependencies?: Readonly<Record<string, () => string | undefined>>;
  /** Tracing on: a span per request (api-tracing.ts). */
  readonly tracer?: Tracer;
}

/**
 * The serving layer: REST history and latest values, the WebSocket stream and the dashboard,
 * on one Fastify instance. `app` is exposed for `inject()`; start() makes it ready, starts
 * the market directory and listens when `config.listen` is set.
 */
export interface ApiServer extends Component {
  readonly app: FastifyInstance;
  /** `http://host:port` once listening. */
  readonly url: string | undefined;
  /**
   * Why the API should get no traffic (starting, shutting down, a dependency and its reason),
   * undefined when ready. For the internal probe port only: error text may name hosts and users.
   */
  notReadyReason(): string | undefined;
}

/** Close code sent to stream clients on shutdown (RFC 6455: going away). */
const CLOSE_GOING_AWAY = 1001;
const CLOSE_GRACE_MS = 2_000;

export function createApiServer(deps: ApiServerDeps): ApiServer {
  const { config } = deps;
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger.child({ component: 'api' });
  const metrics = createApiMetrics(deps.registry);
  const directory = createMarketDirectory({
    store: deps.store,
    bus: deps.bus,
    logger,
    refreshMs: config.marketsRefreshMs,
    idleMs: config.marketIdleMs,
    maxMarkets: config.maxMarkets,
    onForget: (reason) => metrics.marketsForgotten.inc({ reason }),
    clock,
  });
  const sessions = new Set<StreamSession>();
  let state: 'new' | 'running' | 'draining' | 'closed' = 'new';
  let url: string | undefined;

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Requests are logged at debug by the onResponse hook below, not at info by Fastify.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    schemaErrorFormatter: formatValidationErrors,
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      return reply
        .code(400)
        .send({ statusCode: 400, error: 'Bad Request', code: 'TM_BAD_QUERY', message: err.message });
    }
    if (err instanceof TickmeshError && err.retriable) {
      req.log.warn({ err, url: redactApiKey(req.url) }, 'request failed: a server is unavailable');
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({ statusCode: 503, error: 'Service Unavailable', code: err.code, message: err.message });
    }
    // A plugin's refusal (the rate limit's 429 is a plain object) carries its own status.
    if (err.statusCode !== undefined && err.statusCode < 500) return reply.code(err.statusCode).send(err);
    req.log.error({ err, url: redactApiKey(req.url) }, 'request failed');
    return reply
      .code(500)
      .send({ statusCode: 500, error: 'Internal Server Error', code: 'TM_INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      code: 'TM_NOT_FOUND',
      message: `no route ${req.method} ${req.url}`,
    }),
  );
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.requestSeconds.observe({ route }, reply.elapsedTime / 1000);
    req.log.debug({ method: req.method, url: redactApiKey(req.url), status: reply.statusCode }, 'request');
  });
  if (deps.tracer) registerRequestTracing(app, deps.tracer);
  if (config.auth) registerApiAuth(app, config.auth.keys);
  registerFrontDoorLimits(app, config);
  registerOpenApi(app, { keys: config.auth !== undefined });
  registerResponseSchemas(app);

  app.register(websocket, {
    options: { maxPayload: config.stream.maxPayloadBytes },
    preClose: async function closeStreams(this: FastifyInstance) {
      const wss = this.websocketServer;
      for (const client of wss.clients) client.close(CLOSE_GOING_AWAY, 'server shutting down');
      const closed = new Promise<void>((resolve) => wss.close(() => resolve()));
      // A client that does not answer the close handshake would hold shutdown for ws's 30 s.
      const timer = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, CLOSE_GRACE_MS);
      await closed;
      clearTimeout(timer);
    },
  });
  const info = () => ({
    source: config.source,
    simulated: isSimulated({ config, directory }),
    intervals: config.intervals,
    dashboardInterval: config.dashboardInterval,
  });
  app.register(async (scope) => {
    registerRestRoutes(scope, {
      store: deps.store,
      cache: deps.cache,
      directory,
      config,
      clock,
      ready: () => notReadyReason() === undefined,
    });
    const { latestReferences, references, news, sentiment } = deps.store;
    // A store without the context tables' queries (a test double of the candle routes) serves no context routes.
    if (latestReferences && references && news && sentiment) {
      const store = deps.store as ContextRoutesContext['store'];
      registerContextRoutes(scope, { store, cache: deps.cache, config });
    }
    // As the context routes: a store without the verification reads serves no /api/v1/verification.
    if (deps.store.verificationCounts && deps.store.mismatches) {
      registerVerificationRoutes(scope, { store: deps.store as VerificationRoutesContext['store'], config });
    }
    registerStreamRoute(scope, { bus: deps.bus, config, metrics, logger, info, sessions });
    registerDashboard(scope);
    registerOpenApiRoute(scope);
    registerAsyncApiRoute(scope, config);
  });

  let lastNotReady: string | undefined;
  const notReadyDependency = (): string | undefined => {
    for (const [name, reason] of Object.entries(deps.dependencies ?? {})) {
      const why = reason();
      if (why === undefined) continue;
      if (why !== lastNotReady) logger.warn({ dependency: name, reason: why }, 'api not ready: a dependency is not');
      lastNotReady = why;
      return `${name} is not ready: ${why}`;
    }
    lastNotReady = undefined;
    return undefined;
  };
  const notReadyReason = (): string | undefined =>
    state === 'running' ? notReadyDependency() : state === 'new' ? 'starting' : 'shutting down';

  const stop = async (): Promise<void> => {
    if (state === 'closed') return;
    state = 'closed';
    for (const s of sessions) s.close();
    await directory.close();
    await app.close();
  };

  return {
    app,
    get url() {
      return url;
    },
    notReadyReason,
    async start(signal) {
      if (state !== 'new') throw new Error('api server already started');
      signal.addEventListener('abort', () => void stop(), { once: true });
      await app.ready();
      await directory.start(signal);
      if (config.listen) {
        await app.listen({ port: config.listen.port, host: config.listen.host });
        const address = app.server.address();
        const port = typeof address === 'object' && address ? address.port : config.listen.port;
        const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
        url = `http://${host}:${port}`;
        logger.info({ url }, 'api listening');
      }
      state = 'running';
    },
    // Requests in flight finish (Fastify answers new ones 503 while closing); stream clients get 1001.
    async drain() {
      if (state === 'running') state = 'draining';
      await stop();
    },
    close: stop,
  };
}

/** One message naming every failing parameter, e.g. `querystring/interval must be one of: 1m, 5m`. */
function formatValidationErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const lines = errors.map((e) => {
    const where = `${dataVar}${e.instancePath}`;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        return `${dataVar} must have '${String(params.missingProperty)}'`;
      case 'additionalProperties':
        return `${dataVar} has an unknown parameter '${String(params.additionalProperty)}'`;
      case 'enum':
        return `${where} must be one of: ${(params.allowedValues as unknown[]).join(', ')}`;
      case 'pattern':
        return where.endsWith('/from') || where.endsWith('/to')
          ? `${where} must be Unix epoch milliseconds or an ISO 8601 date/time`
          : `${where} must be printable ASCII characters with no whitespace`;
      default:
        return `${where} ${e.message ?? 'is invalid'}`;
    }
  });
  return new Error(lines.join('; '));
}
