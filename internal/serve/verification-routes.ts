import type { FastifyInstance } from 'fastify';
import type { VerificationStore } from '../sink/verification-store.js';
import type { ApiConfig } from './api-config.js';
import { decodeMismatchCursor, encodeMismatchCursor } from './mismatch-cursor.js';
import { querySchemas, type VerificationQuery } from './query-schemas.js';
import { apiResponses, VERIFICATION_SUMMARY } from './response-schemas.js';
import { pageLimit, timeRange } from './rest-routes.js';
import { summarizeVerification } from './verification-summary.js';

export interface VerificationRoutesContext {
  readonly store: Pick<VerificationStore, 'verificationCounts' | 'mismatches'>;
  readonly config: ApiConfig;
}

/**
 * GET /api/v1/verification (docs/API.md): how the stored candles of the range (by open time)
 * check against the venues, per market and interval, and a page of the mismatches. Every filter
 * is optional: without exchange and symbol, every market (what the dashboard's market list shows).
 */
export function registerVerificationRoutes(app: FastifyInstance, ctx: VerificationRoutesContext): void {
  const { store, config } = ctx;
  const querystring = querySchemas(config).verification;
  app.get<{ Querystring: VerificationQuery }>(
    '/api/v1/verification',
    { schema: { querystring, response: apiResponses(VERIFICATION_SUMMARY, { query: true }) } },
    async (req, reply) => {
      const range = timeRange(req.query, reply);
      if (range === undefined) return reply;
      const { exchange, symbol, interval } = req.query;
      const after = req.query.after === undefined ? undefined : decodeMismatchCursor(req.query.after, config.intervals);
      if (req.query.after !== undefined && after === undefined) {
        return reply.code(400).send({
          statusCode: 400,
          error: 'Bad Request',
          code: 'TM_BAD_QUERY',
          message: 'querystring/after is not the next of a verification page',
        });
      }
      const limit = pageLimit(req.query.limit, config.alertLimit, reply);
      if (limit === undefined) return reply;
      const filter = {
        ...(exchange === undefined ? {} : { exchange }),
        ...(symbol === undefined ? {} : { symbol }),
        ...(interval === undefined ? {} : { interval }),
        ...range,
      };
      const [counts, mismatches] = await Promise.all([
        store.verificationCounts(filter),
        store.mismatches({
          ...filter,
          limit,
          ...(after === undefined ? {} : { after }),
          // Without a start, the latest mismatches are what a reader wants, as with alerts.
          newest: range.from === undefined && after === undefined,
        }),
      ]);
      const last = mismatches.at(-1);
      const forward = range.from !== undefined || after !== undefined;
      return {
        exchange: exchange ?? null,
        symbol: symbol ?? null,
        interval: interval ?? null,
        ...summarizeVerification(counts),
        mismatches,
        next: forward && mismatches.length === limit && last ? encodeMismatchCursor(last) : null,
      };
    },
  );
}
