import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { findApiKey, newApiKey, parseApiKeys } from './api-keys.js';
import type { ApiServer } from './api-server.js';
import { startStorelessApi } from './testing/storeless-api.js';

const reader = newApiKey('dashboard');
const other = newApiKey('ci');
const keys = parseApiKeys(`# keys of the test\n${reader.line}\n\n${other.line}\n`);

const servers: ApiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function server(withKeys: boolean, listen = false): Promise<ApiServer> {
  const s = await startStorelessApi({
    ...(withKeys ? { auth: { keys } } : {}),
    ...(listen ? { listen: { port: 0, host: '127.0.0.1' } } : {}),
  });
  servers.push(s);
  return s;
}

describe('API keys', () => {
  it('parses the keys file: hashes, names and roles; refuses a key in clear and a wrong role', () => {
    expect(keys.map((k) => [k.name, k.role])).toEqual([
      ['dashboard', 'read'],
      ['ci', 'read'],
    ]);
    expect(parseApiKeys(`${'ab'.repeat(32)}`)[0]?.name).toBe('key-1');
    expect(() => parseApiKeys(reader.key)).toThrow(/line 1: expected the key's SHA-256/);
    expect(() => parseApiKeys(`${'ab'.repeat(32)} ops admin`)).toThrow(/line 1: expected '<sha256> \[name\] \[read\]'/);
    expect(() => parseApiKeys('# none\n')).toThrow(/holds no key/);
    expect(findApiKey(keys, other.key)?.name).toBe('ci');
    expect(findApiKey(keys, `${other.key}x`)).toBeUndefined();
  });

  it('with keys, /api needs one (header or api_key), with a JSON 401; probes and the page stay public', async () => {
    const { app } = await server(true);
    const none = await app.inject({ url: '/api/v1/info' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.json()).toMatchObject({ statusCode: 401, code: 'TM_UNAUTHORIZED', message: /API key is required/ });
    const wrong = await app.inject({ url: '/api/v1/info', headers: { authorization: `Bearer ${reader.key}x` } });
    expect([wrong.statusCode, wrong.json().message]).toEqual([401, 'the API key is not valid']);
    const bearer = await app.inject({ url: '/api/v1/info', headers: { authorization: `Bearer ${reader.key}` } });
    expect(bearer.statusCode).toBe(200);
    // The parameter is taken out before the route's schema (which refuses unknown parameters).
    const param = await app.inject({ url: `/api/v1/markets?api_key=${encodeURIComponent(other.key)}` });
    expect(param.statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/nothing' })).statusCode).toBe(401);
    for (const url of [
      '/healthz',
      '/readyz',
      '/',
      '/dashboard/dashboard.js',
      '/dashboard/vendor/lightweight-charts.js',
    ]) {
      expect((await app.inject({ url })).statusCode, url).toBe(200);
    }
  });

  it("refuses a browser's WebSocket without its key and takes it with ?api_key=", async () => {
    const s = await server(true, true);
    const url = `${(s.url as string).replace('http', 'ws')}/api/v1/stream`;
    const open = (u: string) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(u);
        ws.once('open', () => resolve(ws)).once('error', reject);
      });
    await expect(open(url)).rejects.toThrow(/401/);
    const ws = await open(`${url}?api_key=${encodeURIComponent(reader.key)}`);
    ws.terminate();
  });

  it('without keys the API is open', async () => {
    const { app } = await server(false);
    expect((await app.inject({ url: '/api/v1/info' })).statusCode).toBe(200);
  });
});
