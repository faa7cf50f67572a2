import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** Where the page is served; its files are under DOCS_PATH/static/, its copy of the document at DOCS_PATH/json. */
export const DOCS_PATH = '/api/v1/docs';

/** The page and its files: no data, public like the dashboard's (internal/serve/api-auth.ts). */
export const PUBLIC_DOCS_ROUTES: readonly string[] = [
  DOCS_PATH,
  `${DOCS_PATH}/`,
  `${DOCS_PATH}/static/*`,
  `${DOCS_PATH}/static/index.html`,
  `${DOCS_PATH}/static/swagger-initializer.js`,
];

// Everything from this origin (Swagger UI's files are in the package, no CDN); its React code sets
// styles through the DOM, which style-src does not govern, and the bundle injects one style element.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/**
 * The API's docs page at DOCS_PATH: Swagger UI (@fastify/swagger-ui) over the OpenAPI document,
 * no validator badge (it would call validator.swagger.io). The document it loads needs a key
 * like /api/v1/openapi.json: open the page as `DOCS_PATH?api_key=<key>` and it sends the key as a Bearer
 * header with each request it makes (the document's fetch and "Try it out").
 */
export function registerApiDocs(app: FastifyInstance): void {
  app.register(swaggerUi, {
    routePrefix: DOCS_PATH,
    staticCSP: CSP,
    validatorUrl: false,
    theme: { title: 'tickmesh API' },
    uiConfig: {
      deepLinking: true,
      // Serialized into the page's script as written: it runs in the browser, not here.
      requestInterceptor: (request: { url: string; headers: Record<string, string> }) => {
        const page = (globalThis as unknown as { location: { pathname: string; search: string } }).location;
        const key = new URLSearchParams(page.search).get('api_key');
        // Swagger UI resolves the document's address by appending `/json` to the page's, query
        // and all (`/api/v1/docs?api_key=k/json`): that is the page itself, so point it back.
        const url = new URL(request.url);
        if (url.pathname === page.pathname && url.search !== '') {
          request.url = `${url.origin}${page.pathname.replace(/\/$/, '')}/json`;
        }
        if (key && !request.headers.Authorization) request.headers.Authorization = `Bearer ${key}`;
        return request;
      },
    } as Record<string, unknown>,
  });
}
