import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Cache } from '../sink/cache.js';
import type { CandleQuery, Store } from '../sink/store.js';
import { decodeAlertCursor, encodeAlertCursor } from './alert-cursor.js';
import type { ApiConfig } from './api-config.js';
import type { MarketDirectory } from './market-directory.js';
import {
  type AlertsQuery,
  type CandlesQuery,
  type LatestCandleQuery,
  type MarketQuery,
  type MarketsQuery,
  parseTime,
  querySchemas,
} from './query-schemas.js';
import {
  ALERTS_PAGE,
  apiResponses,
  INFO_RESPONSE,
  list,
  seriesPage,
  single,
  textResponses,
} from './response-schemas.js';
import { beyondRetention } from './retention-range.js';

export interface RestContext {
  readonly store: Pick<Store, 'candles' | 'indicators' | 'alerts' | 'predictions'>;
  readonly cache: Pick<Cache, 'latestCandle' | 'latestIndicators' | 'latestPrice'>;
  readonly directory: Pick<MarketDirectory, 'list'>;
  readonly config: ApiConfig;
  readonly clock: () => number;
  /** Whether the API should get traffic; why not is told on the internal probe port only. */
  readonly ready: () => boolean;
}

/** The HTTP routes of docs/API.md: /api/v1/* (JSON), /healthz and the public /readyz. */
export function registerRestRoutes(app: FastifyInstance, ctx: RestContext): void {
  const { store, cache, directory, config } = ctx;
  const schemas = querySchemas(config);

  app.get('/api/v1/info', { schema: { response: apiResponses(INFO_RESPONSE) } }, async () => ({
    name: 'tickmesh',
    source: config.source,
    simulated: isSimulated(ctx),
    intervals: config.intervals,
    dashboardInterval: config.dashboardInterval,
    // How far back each interval's rows (and alerts) go, in ms; absent: kept forever.
    retention: config.retention,
    stream: '/api/v1/stream',
    time: ctx.clock(),
  }));

  app.get<{ Querystring: MarketsQuery }>(
    '/api/v1/markets',
    {
      schema: { querystring: schemas.markets, response: apiResponses(list('markets', 'MarketEntry'), { query: true }) },
    },
    async (req) => {
      const { interval } = req.query;
      const markets = await Promise.all(
        directory.list().map(async (m) => {
          const [price, candle] = await Promise.all([
            cache.latestPrice(m.exchange, m.symbol),
            interval === undefined ? undefined : cache.latestCandle(m.exchange, m.symbol, interval),
          ]);
          return interval === undefined ? { ...m, price } : { ...m, price, candle };
        }),
      );
      return { markets };
    },
  );

  /**
   * A page of one market's series of one interval, by open time. Paging forward through a range:
   * `next` is where the next page starts, after the last row returned.
   */
  const series = (
    path: string,
    field: 'candles' | 'predictions' | 'indicators',
    row: 'Candle' | 'Indicators' | 'Prediction',
    read: (q: CandleQuery) => Promise<ReadonlyArray<{ readonly openTime: number }>>,
  ) =>
    app.get<{ Querystring: CandlesQuery }>(
      path,
      {
        schema: {
          querystring: field === 'candles' ? schemas.candles : schemas.series,
          response: apiResponses(seriesPage(field, row), { query: true }),
        },
      },
      async (req, reply) => {
        const { exchange, symbol, interval, verification } = req.query;
        const range = timeRange(req.query, reply);
        if (range === undefined) return reply;
        const expired = beyondRetention(config.retention, interval, range, ctx.clock(), `${interval} ${field}`);
        if (expired !== undefined) return badRequest(reply, expired);
        const limit = pageLimit(req.query.limit, config.candleLimit, reply);
        if (limit === undefined) return reply;
        const rows = await read({ exchange, symbol, interval, ...range, limit, verification });
        const last = rows.at(-1);
        const next = range.from !== undefined && rows.length === limit && last ? last.openTime + 1 : null;
        return { exchange, symbol, interval, [field]: rows, next };
      },
    );

  // Every stored candle says whether the venue agrees: its judgement, or null until there is one.
  series('/api/v1/candles', 'candles', 'Candle', async (q) =>
    (await store.candles(q)).map((c) => ({ ...c, verification: c.verification ?? null })),
  );
  // Each prediction carries the model's running scores next to the baselines' (never one without the other).
  series('/api/v1/predictions', 'predictions', 'Prediction', (q) => store.predictions(q));
  series('/api/v1/indicators', 'indicators', 'Indicators', (q) => store.indicators(q));

  app.get<{ Querystring: LatestCandleQuery }>(
    '/api/v1/candles/latest',
    { schema: { querystring: schemas.latestCandle, response: latest('candle', 'Candle') } },
    async (req, reply) => {
      const { exchange, symbol, interval } = req.query;
      const candle = await cache.latestCandle(exchange, symbol, interval);
      if (!candle) return notFound(reply, `no ${interval} candle of ${exchange} ${symbol} in the cache`);
      return { candle };
    },
  );

  app.get<{ Querystring: LatestCandleQuery }>(
    '/api/v1/indicators/latest',
    { schema: { querystring: schemas.latestCandle, response: latest('indicators', 'Indicators') } },
    async (req, reply) => {
      const { exchange, symbol, interval } = req.query;
      const indicators = await cache.latestIndicators(exchange, symbol, interval);
      if (!indicators) return notFound(reply, `no ${interval} indicators of ${exchange} ${symbol} in the cache`);
      return { indicators };
    },
  );

  app.get<{ Querystring: MarketQuery }>(
    '/api/v1/prices/latest',
    { schema: { querystring: schemas.latestPrice, response: latest('price', 'LatestPrice') } },
    async (req, reply) => {
      const { exchange, symbol } = req.query;
      const price = await cache.latestPrice(exchange, symbol);
      if (!price) return notFound(reply, `no price of ${exchange} ${symbol} in the cache`);
      return { price };
    },
  );

  app.get<{ Querystring: AlertsQuery }>(
    '/api/v1/alerts',
    { schema: { querystring: schemas.alerts, response: apiResponses(ALERTS_PAGE, { query: true }) } },
    async (req, reply) => {
      const range = timeRange(req.query, reply);
      if (range === undefined) return reply;
      const expired = beyondRetention(config.retention, 'alerts', range, ctx.clock(), 'alerts');
      if (expired !== undefined) return badRequest(reply, expired);
      const { exchange, symbol, kind } = req.query;
      const after = req.query.after === undefined ? undefined : decodeAlertCursor(req.query.after);
      if (req.query.after !== undefined && after === undefined) {
        return badRequest(reply, 'querystring/after is not the next of an alerts page');
      }
      const limit = pageLimit(req.query.limit, config.alertLimit, reply);
      if (limit === undefined) return reply;
      const alerts = await store.alerts({
        ...(exchange === undefined ? {} : { exchange }),
        ...(symbol === undefined ? {} : { symbol }),
        ...(kind === undefined ? {} : { kind }),
        ...(after === undefined ? {} : { after }),
        ...range,
        limit,
        // Without a start, the most recent alerts (before `to`) are what a reader wants.
        newest: range.from === undefined && after === undefined,
      });
      const last = alerts.at(-1);
      // Paging forward through a range, as candles: `next` goes back as `after` with the same filters.
      const forward = range.from !== undefined || after !== undefined;
      const next = forward && alerts.length === limit && last ? encodeAlertCursor(last) : null;
      return { alerts, next };
    },
  );

  app.get('/healthz', { schema: { response: textResponses({ 200: 'ok' }) } }, async (_req, reply) =>
    reply.type('text/plain').send('ok\n'),
  );

  // The reason, and /metrics, are on the internal probe port (cmd/tickmesh/api.ts), not here.
  app.get(
    '/readyz',
    { schema: { response: textResponses({ 200: 'ready', 503: 'not ready' }) } },
    async (_req, reply) => {
      const ready = ctx.ready();
      return reply
        .code(ready ? 200 : 503)
        .type('text/plain')
        .send(ready ? 'ready\n' : 'not ready\n');
    },
  );
}

const latest = (field: string, row: 'Candle' | 'Indicators' | 'LatestPrice') =>
  apiResponses(single(field, row), { query: true, notFound: true });

/** Whether the data is simulated: what the process knows, else whether the simulator's markets are there. */
export function isSimulated(ctx: Pick<RestContext, 'config' | 'directory'>): boolean {
  return ctx.config.source.simulated ?? ctx.directory.list().some((m) => m.exchange === 'sim');
}

/** from/to as ms; answers 400 and returns undefined when one is not a real date or they are reversed. */
export function timeRange(
  q: { readonly from?: string; readonly to?: string },
  reply: FastifyReply,
): { from?: number; to?: number } | undefined {
  const range: { from?: number; to?: number } = {};
  for (const key of ['from', 'to'] as const) {
    const value = q[key];
    if (value === undefined) continue;
    const ms = parseTime(value);
    if (!Number.isFinite(ms)) {
      badRequest(reply, `querystring/${key} is not a valid date between 1970-01-01 and 9999-12-31: ${value}`);
      return undefined;
    }
    range[key] = ms;
  }
  if (range.from !== undefined && range.to !== undefined && range.from >= range.to) {
    badRequest(reply, 'querystring/from must be before querystring/to');
    return undefined;
  }
  return range;
}

/**
 * `limit` as given, or the default; undefined after answering 400 for an infinite one: Ajv
 * coerces `1e309` to Infinity and then checks neither its type nor its maximum again.
 */
export function pageLimit(
  value: number | undefined,
  limits: { readonly default: number; readonly max: number },
  reply: FastifyReply,
): number | undefined {
  if (value === undefined) return limits.default;
  if (Number.isFinite(value)) return value;
  badRequest(reply, `querystring/limit must be an integer from 1 to ${limits.max}`);
  return undefined;
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ statusCode: 400, error: 'Bad Request', code: 'TM_BAD_QUERY', message });
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ statusCode: 404, error: 'Not Found', code: 'TM_NOT_FOUND', message });
}
