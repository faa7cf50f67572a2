import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alert, candle, prediction } from '../../test/contracts/store-contract.js';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import { isValidPattern } from '../bus/subject-syntax.js';
import { createLogger, silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../sink/pglite-store.js';
import { apiConfig, DEFAULT_API_CONFIG } from './api-config.js';
import { createApiMetrics } from './api-metrics.js';
import { type ApiServer, createApiServer } from './api-server.js';
import { streamRequestParser } from './stream-request.js';
import { StreamSession } from './stream-session.js';

/**
 * Hostile input against every route and the stream protocol, on the in-process adapters of
 * `tickmesh dev` (PGlite, the in-process cache and bus): whatever a client sends, the answer is
 * a 2xx, 3xx or a 4xx that says what is wrong, never a 5xx, and nothing is logged as an error.
 */

const ROUTES = [
  '/api/v1/info',
  '/api/v1/markets',
  '/api/v1/candles',
  '/api/v1/candles/latest',
  '/api/v1/prices/latest',
  '/api/v1/alerts',
  '/api/v1/predictions',
  '/api/v1/stream',
  '/healthz',
  '/readyz',
  '/',
  '/dashboard/dashboard.js',
] as const;

const KNOWN = ['exchange', 'symbol', 'interval', 'from', 'to', 'limit', 'kind'] as const;

/** A valid query of each route, which the fuzzer mostly changes one or two parameters of: wholly random ones fail the first check. */
const VALID: Readonly<Record<string, Record<string, string>>> = {
  '/api/v1/markets': { interval: '1m' },
  '/api/v1/candles': { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', from: '0', limit: '10' },
  '/api/v1/candles/latest': { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m' },
  '/api/v1/prices/latest': { exchange: 'binance', symbol: 'BTCUSDT' },
  '/api/v1/alerts': { exchange: 'binance', symbol: 'BTCUSDT', to: '2024-06-01' },
  '/api/v1/predictions': { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', from: '0', limit: '10' },
};

const value = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      'binance',
      'BTCUSDT',
      '1m',
      '5m',
      '*',
      '',
      ' ',
      '999999999999999',
      '9999999999999999999999',
      '253402300800000',
      '-1',
      '1e309',
      '0x10',
      'NaN',
      '2024-02-30',
      '2024-01-15T10:00:00Z',
      '2024-01-15T25:61:00+99:99',
      '0000-01-01',
      '\u0000',
      'bin\u0000ance',
      '%',
      '%zz',
      '..',
      '__proto__',
      'constructor',
    ),
  },
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ maxLength: 5_000 }),
  fc.bigInt().map(String),
  fc.double().map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KNOWN) }, fc.string({ unit: 'binary', maxLength: 20 }));
const query = fc.array(fc.tuple(key, value), { maxLength: 4 });

/** Percent-encodes any string, lone surrogates included (encodeURIComponent throws on them). */
function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s, 'utf16le')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

let server: ApiServer;
let store: PgliteStore;
let bus: MemoryBus;
const errors: string[] = [];

beforeAll(async () => {
  store = await createPgliteStore({});
  await store.migrate();
  await store.commit({
    topic: 't',
    partition: 0,
    epoch: 1,
    nextOffset: 1n,
    state: new Uint8Array(),
    candles: [candle()],
    alerts: [alert()],
    predictions: [prediction()],
  });
  const cache = createMemoryCache();
  await cache.putCandles([candle({ closed: false })]);
  bus = createMemoryBus();
  const destination = new Writable({
    write(chunk, _enc, done) {
      const line = String(chunk);
      if (JSON.parse(line).level >= 50) errors.push(line);
      done();
    },
  });
  server = createApiServer({
    store,
    cache,
    bus,
    logger: createLogger({ level: 'error', destination }),
    registry: createRegistry({}, false),
    config: apiConfig({ intervals: ['1m', '5m', '1h'] }),
  });
  await server.start(new AbortController().signal);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await bus?.close();
  await store?.close();
});

describe('fuzz: REST routes', () => {
  it('any query on any route answers below 500, a 4xx with a message, and logs no error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'),
        query,
        fc.boolean(),
        async (route, method, changes, fromValid) => {
          const params = new Map(Object.entries(fromValid ? (VALID[route] ?? {}) : {}));
          for (const [k, v] of changes) params.set(k, v);
          const qs = [...params].map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
          const res = await server.app.inject({ method: method as 'GET', url: qs ? `${route}?${qs}` : route });
          expect(res.statusCode, `${method} ${route}?${qs}`).toBeLessThan(500);
          if (res.statusCode >= 400 && method !== 'HEAD') {
            expect(typeof res.json().message, `${method} ${route}?${qs}`).toBe('string');
          }
        },
      ),
      { numRuns: 600 },
    );
    expect(errors).toEqual([]);
  });

  it('a valid query with one parameter replaced by anything answers below 500 and logs no error', async () => {
    const oneChanged = fc
      .constantFrom(...Object.keys(VALID))
      .chain((route) =>
        fc.tuple(fc.constant(route), fc.constantFrom(...Object.keys(VALID[route]!), 'from', 'to', 'limit'), value),
      );
    await fc.assert(
      fc.asyncProperty(oneChanged, async ([route, name, v]) => {
        const params = new URLSearchParams({ ...VALID[route], [name]: v });
        const url = `${route}?${params}`;
        const res = await server.app.inject({ url });
        expect(res.statusCode, url).toBeLessThan(500);
      }),
      { numRuns: 1_000 },
    );
    expect(errors).toEqual([]);
  });

  it('raw, badly encoded URLs answer below 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.string({ unit: 'binary-ascii', maxLength: 60 }),
        async (route, raw) => {
          const url = `${route}?${raw.replace(/[#\s]/g, '')}`;
          const res = await server.app.inject({ url });
          expect(res.statusCode, url).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
    expect(errors).toEqual([]);
  });
});

describe('fuzz: stream client messages', () => {
  const parse = streamRequestParser(['1m', '5m']);
  const filter = fc.record(
    {
      interval: fc.oneof(fc.constantFrom('1m', '5m', '*', '2m'), fc.string()),
      exchange: fc.oneof(fc.constantFrom('binance', '*', 'a.b', '>'), fc.string({ unit: 'binary' })),
      symbol: fc.oneof(fc.constantFrom('BTCUSDT', '*', 'BTC/USD'), fc.string({ unit: 'binary' })),
      kind: fc.oneof(fc.constantFrom('partial', 'closed', '*'), fc.string()),
    },
    { requiredKeys: [] },
  );
  const subscribe = fc.record(
    {
      candles: fc.oneof(filter, fc.array(filter, { maxLength: 40 }), fc.anything()),
      alerts: fc.oneof(fc.boolean(), fc.record({ kind: fc.string(), exchange: fc.string() }), fc.anything()),
      index: fc.oneof(fc.boolean(), fc.record({ asset: fc.string({ unit: 'binary' }) }), fc.anything()),
    },
    { requiredKeys: [] },
  );
  const message = fc.oneof(
    subscribe.map((s) => JSON.stringify({ subscribe: s })),
    fc.anything().map((v) => JSON.stringify(v) ?? 'undefined'),
    fc.string({ unit: 'binary', maxLength: 2_000 }),
    fc.json(),
  );

  it('a message parses to valid subject patterns or to a short error, and never throws', () => {
    fc.assert(
      fc.property(message, (text) => {
        const r = parse(text);
        if (r.ok) {
          for (const { subject } of r.plan.subjects) expect(isValidPattern(subject), subject).toBe(true);
          expect(r.plan.subjects.length).toBeLessThanOrEqual(34);
        } else {
          expect(r.error.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('a session answers every message with subscribed or a short error, within its limits', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(message, fc.boolean()), { maxLength: 20 }), (messages) => {
        const sent: string[] = [];
        const socket = {
          bufferedAmount: 0,
          send: (text: string, cb: () => void) => {
            sent.push(text);
            cb();
          },
          close: () => {},
          terminate: () => {},
        };
        const session = new StreamSession({
          bus,
          socket,
          config: { ...DEFAULT_API_CONFIG.stream, messagesPerSecond: 1_000 },
          metrics: createApiMetrics(createRegistry({}, false)),
          logger: silentLogger(),
          parse,
        });
        for (const [text, binary] of messages) session.onMessage(text, binary);
        session.close();
        expect(sent).toHaveLength(messages.length);
        for (const reply of sent.map((t) => JSON.parse(t))) {
          if (reply.type === 'error') expect(reply.error.length).toBeLessThanOrEqual(300);
          else expect(reply.type).toBe('subscribed');
        }
      }),
      { numRuns: 300 },
    );
  });
});
