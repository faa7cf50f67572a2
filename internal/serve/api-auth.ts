import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PUBLIC_DOCS_ROUTES } from './api-docs.js';
import { type ApiKey, findApiKey } from './api-keys.js';

/** Routes anyone may reach with keys on: the probes, the dashboard and docs pages with their files. */
const PUBLIC_ROUTES = new Set([
  '/healthz',
  '/readyz',
  '/',
  '/dashboard/:file',
  '/dashboard/vendor/:file',
  ...PUBLIC_DOCS_ROUTES,
]);

/** The query parameter that carries a key where a header cannot: a browser's WebSocket. */
export const API_KEY_PARAM = 'api_key';

/**
 * With keys, every route but PUBLIC_ROUTES (an unknown path too) needs one of them, from
 * `Authorization: Bearer <key>` or `?api_key=<key>`; otherwise 401 with a JSON error. The
 * parameter is taken out of the query before the route's schema sees it. The key found is
 * `req.apiKey` (for rate limits per key).
 */
export function registerApiAuth(app: FastifyInstance, keys: readonly ApiKey[]): void {
  app.decorateRequest('apiKey', undefined);
  // preValidation, as the stream route's own refusals: an upgrade refused from onRequest left the
  // client without an answer. It also runs before the query's schema, which would refuse api_key.
  app.addHook('preValidation', async (req, reply) => {
    const presented = presentedKey(req);
    if (PUBLIC_ROUTES.has(req.routeOptions.url ?? '')) return;
    const key = presented === undefined ? undefined : findApiKey(keys, presented);
    if (key) {
      req.apiKey = key;
      return;
    }
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="tickmesh"')
      .send({
        statusCode: 401,
        error: 'Unauthorized',
        code: 'TM_UNAUTHORIZED',
        message:
          presented === undefined
            ? `an API key is required: Authorization: Bearer <key>, or ?${API_KEY_PARAM}=<key>`
            : 'the API key is not valid',
      });
  });
}

/** The key of the header or else of the query parameter, which is removed from the query. */
function presentedKey(req: FastifyRequest): string | undefined {
  const query = req.query as Record<string, unknown> | undefined;
  const param = query?.[API_KEY_PARAM];
  if (query && param !== undefined) delete query[API_KEY_PARAM];
  const header = req.headers.authorization;
  const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (bearer !== undefined) return bearer;
  return typeof param === 'string' && param !== '' ? param : undefined;
}

/** `url` with the value of an api_key parameter replaced, for logs. */
export function redactApiKey(url: string): string {
  return url.replace(/([?&]api_key=)[^&]*/gi, '$1REDACTED');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key the request was made with, when keys are on. */
    apiKey: ApiKey | undefined;
  }
}
