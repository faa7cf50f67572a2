import { afterEach, describe, expect, it } from 'vitest';
import { DOCS_PATH } from './api-docs.js';
import { newApiKey, parseApiKeys } from './api-keys.js';
import type { ApiServer } from './api-server.js';
import { OPENAPI_PATH } from './openapi.js';
import { startStorelessApi } from './testing/storeless-api.js';

const servers: ApiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('the docs page', () => {
  it('loads without a key, with every script and style sheet from this origin; the document needs the key', async () => {
    const k = newApiKey('docs');
    const s = await startStorelessApi({ auth: { keys: parseApiKeys(k.line) }, rateLimitPerMinute: 0 });
    servers.push(s);
    const page = await s.app.inject({ url: DOCS_PATH });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self';/);
    expect(page.body).toContain('<title>tickmesh API</title>');
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThanOrEqual(5);
    expect(page.body).not.toMatch(/https?:\/\//);
    for (const url of assets) {
      expect(url.startsWith(`${DOCS_PATH}/static/`), url).toBe(true);
      const res = await s.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/javascript|css|image\/png/);
      expect(res.rawPayload.length, url).toBeGreaterThan(100);
    }
    const init = await s.app.inject({ url: `${DOCS_PATH}/static/swagger-initializer.js` });
    expect(init.body).toContain('requestInterceptor');
    expect(init.body).toContain('validatorUrl: null');

    // The page's copy of the document is the document, and guarded like it.
    expect((await s.app.inject({ url: `${DOCS_PATH}/json` })).statusCode).toBe(401);
    const auth = { authorization: `Bearer ${k.key}` };
    const copy = await s.app.inject({ url: `${DOCS_PATH}/json`, headers: auth });
    expect(copy.statusCode).toBe(200);
    expect(copy.json()).toEqual((await s.app.inject({ url: OPENAPI_PATH, headers: auth })).json());
    // Nothing else under the prefix is public: an unknown file is a 404, not a directory listing.
    expect((await s.app.inject({ url: `${DOCS_PATH}/static/nope.js` })).statusCode).toBe(404);
  });
});
