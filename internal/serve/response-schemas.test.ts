import { afterEach, describe, expect, it } from 'vitest';
import { candle } from '../../test/contracts/store-contract.js';
import type { apiConfig } from './api-config.js';
import { newApiKey, parseApiKeys } from './api-keys.js';
import type { ApiServer } from './api-server.js';
import { type ResponseConformance, watchResponses } from './testing/response-conformance.js';
import { startStorelessApi } from './testing/storeless-api.js';

const servers: ApiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(
  candles: () => Promise<unknown[]>,
  over: Parameters<typeof apiConfig>[0] = {},
): Promise<{ server: ApiServer; conformance: ResponseConformance }> {
  let conformance: ResponseConformance | undefined;
  const server = await startStorelessApi(
    { intervals: ['1m'], ...over },
    { store: { candles: candles as never }, beforeStart: (s) => (conformance = watchResponses(s.app)) },
  );
  servers.push(server);
  return { server, conformance: conformance as ResponseConformance };
}

const CANDLES = '/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m';

describe('response schemas', () => {
  it('document the answers without shaping them: the body is what JSON.stringify writes', async () => {
    // Outside the schema on purpose: a field it lacks and a fractional integer. fast-json-stringify,
    // Fastify's default for a route with a response schema, would drop the one and truncate the other.
    const odd = { ...candle(), trades: 1.5, extra: 'kept' };
    const { server, conformance } = await start(async () => [odd]);
    const res = await server.app.inject({ url: CANDLES });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(
      JSON.stringify({
        exchange: 'binance',
        symbol: 'BTCUSDT',
        interval: '1m',
        candles: [{ ...odd, verification: null }],
        next: null,
      }),
    );
    // ... and the conformance check sees both.
    const violations = await conformance.violations();
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/candles\/0 must NOT have additional properties.*candles\/0\/trades must be integer/);
  });

  it('401, 429 and 426 answers match the document', async () => {
    const k = newApiKey('ci');
    const { server, conformance } = await start(async () => [candle()], {
      auth: { keys: parseApiKeys(k.line) },
      rateLimitPerMinute: 2,
    });
    const auth = { authorization: `Bearer ${k.key}` };
    expect((await server.app.inject({ url: CANDLES })).statusCode).toBe(401);
    expect((await server.app.inject({ url: CANDLES, headers: auth })).statusCode).toBe(200);
    expect((await server.app.inject({ url: '/api/v1/stream', headers: auth })).statusCode).toBe(426);
    const limited = await server.app.inject({ url: CANDLES, headers: auth });
    expect(limited.statusCode).toBe(429);
    expect(await conformance.violations()).toEqual([]);
    expect([...conformance.seen].sort()).toEqual([
      'GET /api/v1/candles 200',
      'GET /api/v1/candles 401',
      'GET /api/v1/candles 429',
      'GET /api/v1/stream 426',
    ]);
  });
});
