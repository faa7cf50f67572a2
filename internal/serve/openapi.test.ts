import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, describe, expect, it } from 'vitest';
import { newApiKey, parseApiKeys } from './api-keys.js';
import type { ApiServer } from './api-server.js';
import { OPENAPI_PATH } from './openapi.js';
import { startStorelessApi } from './testing/storeless-api.js';

const servers: ApiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

interface Doc {
  openapi: string;
  paths: Record<
    string,
    {
      get?: {
        parameters?: { name: string; in: string; required: boolean; schema?: unknown }[];
        responses?: Record<string, { description: string; content?: Record<string, unknown> }>;
      };
    }
  >;
  components?: { schemas?: Record<string, unknown> };
  security?: unknown[];
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, lists every /api route of the server, with the parameters of their schemas', async () => {
    const s = await startStorelessApi({});
    servers.push(s);
    const res = await s.app.inject({ url: OPENAPI_PATH });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as Doc;
    expect(doc.openapi).toBe('3.1.0');
    // Against the OpenAPI 3.1 schema (the validator's copy of the specification's own).
    const result = await new Validator().validate(res.json());
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    const api = Object.keys(doc.paths).filter((p) => p.startsWith('/api/'));
    expect(api.sort()).toEqual(
      [
        '/api/v1/alerts',
        '/api/v1/asyncapi.json',
        '/api/v1/candles',
        '/api/v1/candles/latest',
        '/api/v1/indicators',
        '/api/v1/indicators/latest',
        '/api/v1/info',
        '/api/v1/markets',
        OPENAPI_PATH,
        '/api/v1/predictions',
        '/api/v1/prices/latest',
        '/api/v1/stream',
      ].sort(),
    );
    // The API and its probes, not the dashboard's page and files (found by schemathesis: `/dashboard/0`
    // answered an undocumented 404).
    expect(
      Object.keys(doc.paths)
        .filter((p) => !p.startsWith('/api/'))
        .sort(),
    ).toEqual(['/healthz', '/readyz']);
    for (const path of Object.keys(doc.paths)) {
      expect(s.app.hasRoute({ method: 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), path).toBe(true);
    }
    // Every response is described: no route is left at @fastify/swagger's bare `Default Response`.
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/') && path !== '/healthz' && path !== '/readyz') continue;
      const responses = item.get?.responses ?? {};
      const ok = path === '/api/v1/stream' ? responses['101'] : responses['200'];
      expect(ok?.description, path).not.toBe('Default Response');
      if (path !== '/api/v1/stream') expect(Object.keys(ok?.content ?? {}), path).toHaveLength(1);
    }
    expect(doc.components?.schemas?.Decimal).toMatchObject({ type: 'string' });
    const candles = doc.paths['/api/v1/candles']?.get?.parameters ?? [];
    expect(candles.filter((p) => p.required).map((p) => p.name)).toEqual(['exchange', 'symbol', 'interval']);
    // The verification status filter, with its values, for candles only.
    expect(candles.find((p) => p.name === 'verification')).toMatchObject({
      in: 'query',
      schema: { enum: ['verified', 'mismatch', 'unverifiable', 'pending'] },
    });
    const indicators = doc.paths['/api/v1/indicators']?.get?.parameters ?? [];
    expect(indicators.map((p) => p.name)).not.toContain('verification');
    expect(doc.security).toBeUndefined();
  });

  it('with keys, it says so and needs one itself', async () => {
    const k = newApiKey('docs');
    const s = await startStorelessApi({ auth: { keys: parseApiKeys(k.line) } });
    servers.push(s);
    expect((await s.app.inject({ url: OPENAPI_PATH })).statusCode).toBe(401);
    const doc = (
      await s.app.inject({ url: OPENAPI_PATH, headers: { authorization: `Bearer ${k.key}` } })
    ).json() as Doc;
    expect(doc.security).toEqual([{ bearer: [] }, { apiKeyParam: [] }]);
  });
});
