import { describe, expect, it } from 'vitest';
import { parseApiOptions } from '../config/api.js';
import { parseApiKeys } from './api-keys.js';
import { apiConfigFromOptions } from './api-options.js';

describe('api options', () => {
  it('defaults and overrides', () => {
    const o = parseApiOptions({});
    expect(o).toMatchObject({ port: 8080, host: '0.0.0.0', schema: 'public', migrate: true, dashboardInterval: '1m' });
    expect(o.intervals).toContain('1w');
    const c = apiConfigFromOptions(
      parseApiOptions({ port: '0', intervals: '1m,1h', 'stream-buffer': '50', migrate: 'false' }),
    );
    expect(c.listen).toEqual({ port: 0, host: '0.0.0.0' });
    expect(c.intervals).toEqual(['1m', '1h']);
    expect(c.stream.bufferMessages).toBe(50);
    expect(c.source.simulated).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
    expect(apiConfigFromOptions(o).stream).toMatchObject({
      maxConnectionsPerAddress: 20,
      maxSubscriptions: 16,
      messagesPerSecond: 10,
      maxPayloadBytes: 16_384,
      pingMs: 30_000,
      allowedOrigins: [],
    });
    const limits = apiConfigFromOptions(
      parseApiOptions({
        'stream-max-connections-per-address': '2',
        'stream-max-subscriptions': '3',
        'stream-messages-per-second': '4',
        'stream-max-message-bytes': '4096',
        'stream-ping-ms': '5000',
        'stream-allowed-origins': 'https://Dash.example, http://localhost:3000',
        'market-idle-ms': '60000',
        'max-markets': '100',
      }),
    );
    expect(limits.stream).toMatchObject({
      maxConnectionsPerAddress: 2,
      maxSubscriptions: 3,
      messagesPerSecond: 4,
      maxPayloadBytes: 4096,
      pingMs: 5_000,
      allowedOrigins: ['https://dash.example', 'http://localhost:3000'],
    });
    expect([limits.marketIdleMs, limits.maxMarkets]).toEqual([60_000, 100]);
  });

  it('refuse what does not make sense, naming the flag', () => {
    expect(() => parseApiOptions({ port: '70000' })).toThrow(/--port/);
    expect(() => parseApiOptions({ intervals: '1m,2m' })).toThrow(/unknown interval\(s\) 2m/);
    expect(() => parseApiOptions({ intervals: '1h', 'dashboard-interval': '1m' })).toThrow(/not among --intervals/);
    expect(() => parseApiOptions({ schema: 'Bad-Name' })).toThrow(/--schema/);
    expect(() => parseApiOptions({ 'stream-allowed-origins': 'https://a.example/path' })).toThrow(
      /--stream-allowed-origins/,
    );
    expect(() => parseApiOptions({ 'stream-messages-per-second': '0' })).toThrow(/--stream-messages-per-second/);
  });

  it('auth: open by default, keys with a keys file; keys without one is refused', () => {
    expect(parseApiOptions({}).auth).toBe('open');
    expect(apiConfigFromOptions(parseApiOptions({})).auth).toBeUndefined();
    const withFile = parseApiOptions({}, { TICKMESH_API_KEYS_FILE: '/etc/tickmesh/api-keys' });
    expect([withFile.auth, withFile.apiKeysFile]).toEqual(['keys', '/etc/tickmesh/api-keys']);
    expect(parseApiOptions({ 'api-keys-file': '/k', auth: 'open' }).auth).toBe('open');
    expect(() => parseApiOptions({ auth: 'keys' })).toThrow(/--auth keys needs --api-keys-file/);
    const keys = parseApiKeys('ab'.repeat(32));
    expect(apiConfigFromOptions(withFile, keys).auth?.keys).toBe(keys);
    expect(() => apiConfigFromOptions(withFile)).toThrow(/no API keys were read/);
  });

  it('rate limit and CORS: 600 a minute and no CORS by default', () => {
    expect(apiConfigFromOptions(parseApiOptions({}))).toMatchObject({ rateLimitPerMinute: 600, corsOrigins: [] });
    const c = apiConfigFromOptions(
      parseApiOptions({ 'rate-limit-per-minute': '0', 'cors-origins': 'https://dash.example,*' }),
    );
    expect(c).toMatchObject({ rateLimitPerMinute: 0, corsOrigins: ['https://dash.example', '*'] });
    expect(() => parseApiOptions({ 'cors-origins': 'dash.example' })).toThrow(/--cors-origins/);
  });
});
