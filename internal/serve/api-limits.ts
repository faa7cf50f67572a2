import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';

export interface FrontDoorLimits {
  /** Requests a minute per API key, or per client address without one; 0 turns the limit off. */
  readonly rateLimitPerMinute: number;
  /** Origins whose pages may call the REST routes (CORS); empty: none, `*`: any. */
  readonly corsOrigins: readonly string[];
}

/** Probes are never limited: a load balancer's health checks share an address with nobody's traffic. */
const UNLIMITED = new Set(['/healthz', '/readyz']);

/**
 * Rate limits and CORS on the public port. The limit counts by the request's API key when it has
 * one (registered after the key check, internal/serve/api-auth.ts), else by its address: 429 with
 * Retry-After once a client is over it, until its minute ends. Registered (not awaited) on the
 * root instance before the routes, so both plugins see every route.
 */
export function registerFrontDoorLimits(app: FastifyInstance, limits: FrontDoorLimits): void {
  if (limits.corsOrigins.length > 0) {
    app.register(cors, { origin: limits.corsOrigins.includes('*') ? true : [...limits.corsOrigins] });
  }
  if (limits.rateLimitPerMinute > 0) {
    app.register(rateLimit, {
      max: limits.rateLimitPerMinute,
      timeWindow: 60_000,
      hook: 'preValidation',
      keyGenerator: (req) => (req.apiKey ? `key:${req.apiKey.name}` : `address:${req.ip}`),
      allowList: (req) => UNLIMITED.has(req.routeOptions.url ?? ''),
      errorResponseBuilder: (_req, context) => ({
        statusCode: 429,
        error: 'Too Many Requests',
        code: 'TM_RATE_LIMITED',
        message: `over ${context.max} requests a minute; retry in ${context.after}`,
      }),
    });
  }
}
