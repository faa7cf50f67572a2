import { afterEach, describe, expect, it, vi } from 'vitest';
import { newApiKey, parseApiKeys } from './api-keys.js';
import type { ApiServer } from './api-server.js';
import { startStorelessApi } from './testing/storeless-api.js';

const servers: ApiServer[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of servers.splice(0)) await s.close();
});

async function server(over: Parameters<typeof startStorelessApi>[0]): Promise<ApiServer> {
  const s = await startStorelessApi(over);
  servers.push(s);
  return s;
}

describe('rate limits and CORS', () => {
  it('429 with Retry-After past the limit, per address; probes are not limited; it resets after the minute', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const { app } = await server({ rateLimitPerMinute: 3 });
    const from = (ip: string) => app.inject({ url: '/api/v1/info', remoteAddress: ip });
    for (let i = 0; i < 3; i++) expect((await from('10.0.0.1')).statusCode).toBe(200);
    const over = await from('10.0.0.1');
    expect(over.statusCode).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.json()).toMatchObject({ statusCode: 429, code: 'TM_RATE_LIMITED' });
    // Another address has its own count; probes none.
    expect((await from('10.0.0.2')).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) {
      expect((await app.inject({ url: '/readyz', remoteAddress: '10.0.0.1' })).statusCode).toBe(200);
    }
    await vi.advanceTimersByTimeAsync(61_000);
    expect((await from('10.0.0.1')).statusCode).toBe(200);
  });

  it('with keys, counts per key whatever the address', async () => {
    const a = newApiKey('a');
    const b = newApiKey('b');
    const keys = parseApiKeys(`${a.line}\n${b.line}`);
    const { app } = await server({ rateLimitPerMinute: 2, auth: { keys } });
    const get = (key: string, ip: string) =>
      app.inject({ url: '/api/v1/info', remoteAddress: ip, headers: { authorization: `Bearer ${key}` } });
    expect((await get(a.key, '10.0.0.1')).statusCode).toBe(200);
    expect((await get(a.key, '10.0.0.2')).statusCode).toBe(200);
    expect((await get(a.key, '10.0.0.3')).statusCode).toBe(429);
    expect((await get(b.key, '10.0.0.1')).statusCode).toBe(200);
  });

  it('CORS is off by default and answers only the configured origins', async () => {
    const off = await server({});
    const plain = await off.app.inject({ url: '/api/v1/info', headers: { origin: 'https://dash.example' } });
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
    const { app } = await server({ corsOrigins: ['https://dash.example'] });
    const allowed = await app.inject({ url: '/api/v1/info', headers: { origin: 'https://dash.example' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://dash.example');
    const other = await app.inject({ url: '/api/v1/info', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
