import type { FastifyInstance } from 'fastify';
import type { Cache } from '../sink/cache.js';
import type { ContextRange, ContextStore } from '../sink/context-store.js';
import type { ApiConfig } from './api-config.js';
import { apiResponses, contextPage, type JsonSchema, list } from './response-schemas.js';
import { pageLimit, timeRange } from './rest-routes.js';

export interface ContextRoutesContext {
  readonly store: Pick<ContextStore, 'latestReferences' | 'references' | 'news' | 'sentiment'>;
  readonly cache: Partial<Pick<Cache, 'latestReferences'>>;
  readonly config: ApiConfig;
}

/** A tickmesh asset (internal/market/assets.ts): a ticker, upper case on the way in. */
const asset = { type: 'string', minLength: 1, maxLength: 20, pattern: '^[A-Za-z0-9]+$' } as const;
const index = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9-]+$' } as const;
const time = {
  type: 'string',
  pattern: '^(\\d{1,15}|\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})?)?)$',
} as const;

/**
 * Short names of the sentiment indexes as the API takes them, and the index they stand for in
 * the records (docs/SOURCES.md). A name not listed is the record's own index name.
 */
const INDEX_NAMES: Readonly<Record<string, string>> = { 'fear-greed': 'crypto-fear-greed' };

interface PageQuery {
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
}

/**
 * The context routes (docs/API.md): reference data, headlines and sentiment, paged like candles:
 * with `from`, oldest first and `next` the time to ask from for the next page (null at the end);
 * without it, the newest `limit` rows (oldest first) and `next` null. Rows are by their time: the
 * source's for reference data, the day for sentiment, the feed's (else the receive time) for news.
 */
export function registerContextRoutes(app: FastifyInstance, ctx: ContextRoutesContext): void {
  const { store, config } = ctx;
  const object = (properties: Record<string, object>, required: string[] = []) => ({
    type: 'object',
    properties: {
      ...properties,
      from: time,
      to: time,
      limit: { type: 'integer', minimum: 1, maximum: config.candleLimit.max },
    },
    required,
    additionalProperties: false,
  });

  const page = <Q extends PageQuery, R>(
    path: string,
    schema: object,
    read: (q: Q, range: ContextRange) => Promise<R[]>,
    timeOf: (row: R) => number,
    answer: (q: Q, rows: R[], next: number | null) => object,
    response: JsonSchema,
  ) =>
    app.get(
      path,
      { schema: { querystring: schema, response: apiResponses(response, { query: true }) } },
      async (req, reply) => {
        const query = req.query as Q;
        const range = timeRange(query, reply);
        if (range === undefined) return reply;
        const limit = pageLimit(query.limit, config.candleLimit, reply);
        if (limit === undefined) return reply;
        const rows = await read(query, { ...range, limit });
        const last = rows.at(-1);
        const next = range.from !== undefined && rows.length >= limit && last !== undefined ? timeOf(last) + 1 : null;
        return answer(query, rows, next);
      },
    );

  app.get('/api/v1/assets/latest', { schema: { response: apiResponses(list('assets', 'Reference')) } }, async () => {
    const cached = (await ctx.cache.latestReferences?.()) ?? [];
    return { assets: cached.length > 0 ? cached : await store.latestReferences() };
  });

  page<PageQuery & { asset: string }, Awaited<ReturnType<typeof store.references>>[number]>(
    '/api/v1/assets',
    object({ asset }, ['asset']),
    (q, range) => store.references({ asset: q.asset.toUpperCase(), ...range }),
    (r) => r.time,
    (q, assets, next) => ({ asset: q.asset.toUpperCase(), assets, next }),
    contextPage('asset', { type: 'string' }, 'assets', 'Reference'),
  );

  page<PageQuery & { asset?: string }, Awaited<ReturnType<typeof store.news>>[number]>(
    '/api/v1/news',
    object({ asset }),
    (q, range) => store.news({ ...(q.asset === undefined ? {} : { asset: q.asset.toUpperCase() }), ...range }),
    (n) => n.published ?? n.receiveTime,
    (q, news, next) => ({ asset: q.asset === undefined ? null : q.asset.toUpperCase(), news, next }),
    contextPage('asset', { type: ['string', 'null'] }, 'news', 'Headline'),
  );

  page<PageQuery & { index?: string }, Awaited<ReturnType<typeof store.sentiment>>[number]>(
    '/api/v1/sentiment',
    object({ index }),
    (q, range) => {
      const name = q.index ?? 'fear-greed';
      return store.sentiment({ index: INDEX_NAMES[name] ?? name, ...range });
    },
    (s) => s.time,
    (q, sentiment, next) => ({ index: q.index ?? 'fear-greed', sentiment, next }),
    contextPage('index', { type: 'string' }, 'sentiment', 'Sentiment'),
  );
}
