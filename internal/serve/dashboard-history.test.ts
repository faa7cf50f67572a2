import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batch, candle } from '../../test/contracts/store-contract.js';
import { createMemoryBus } from '../bus/memory-bus.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../sink/pglite-store.js';
import { apiConfig } from './api-config.js';
import { type ApiServer, createApiServer } from './api-server.js';

/**
 * The dashboard's history paging (dashboard/history.js, a browser module) against the real API
 * routes on a PGlite store: the newest page, the page before it, a stop of the workers (a gap of
 * many pages with no candle) crossed, and the first stored candle recognised as the start.
 */
const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 5);
const market = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m' };

interface Page {
  candles: Array<{ openTime: number }>;
  indicators: unknown[];
  start: boolean;
}
interface History {
  fetchLatest(path: string, field: string, m: typeof market): Promise<Array<{ openTime: number }>>;
  fetchOlder(m: typeof market, before: number): Promise<Page>;
}

// 50 candles, then the workers stopped for 2,000 minutes (almost 7 pages), then 400 candles.
const first = Array.from({ length: 50 }, (_, i) => T0 + i * MINUTE);
const resumed = T0 + 2_050 * MINUTE;
const second = Array.from({ length: 400 }, (_, i) => resumed + i * MINUTE);

let store: PgliteStore;
let server: ApiServer;
let history: History;
const saved = { fetch: globalThis.fetch };

beforeAll(async () => {
  store = await createPgliteStore();
  await store.migrate();
  await store.commit(batch({ candles: [...first, ...second].map((openTime) => candle({ openTime })) }));
  server = createApiServer({
    store,
    cache: createMemoryCache(),
    bus: createMemoryBus(),
    logger: silentLogger(),
    registry: createRegistry({}, false),
    config: apiConfig({ intervals: ['1m'] }),
  });
  await server.start(new AbortController().signal);
  // What the browser gives the module: the page's URL, its storage, and fetch (here to the server).
  Object.assign(globalThis, {
    location: { search: '', href: 'http://127.0.0.1/' },
    sessionStorage: { getItem: () => null },
    fetch: async (path: string, init: { headers: Record<string, string> }) => {
      const res = await server.app.inject({ url: path, headers: init.headers });
      return {
        ok: res.statusCode < 300,
        status: res.statusCode,
        statusText: res.statusMessage,
        json: async () => res.json(),
      };
    },
  });
  history = (await import(new URL('./dashboard/history.js', import.meta.url).href)) as History;
}, 60_000);

afterAll(async () => {
  globalThis.fetch = saved.fetch;
  await server?.close();
  await store?.close();
});

describe('the dashboard paging back through history', () => {
  it('takes the newest page, the one before it, then crosses the gap to the first stored candles', async () => {
    const newest = await history.fetchLatest('/api/v1/candles', 'candles', market);
    expect(newest.map((c) => c.openTime)).toEqual(second.slice(100));

    const before = await history.fetchOlder(market, second[100] as number);
    expect(before.candles.map((c) => c.openTime)).toEqual(second.slice(0, 100));
    expect(before.start).toBe(false);

    // Nothing in the 300 minutes before: it reaches further back rather than stopping at the gap.
    const across = await history.fetchOlder(market, second[0] as number);
    expect(across.candles.map((c) => c.openTime)).toEqual(first);
    expect(across.start).toBe(false);

    const none = await history.fetchOlder(market, first[0] as number);
    expect(none).toEqual({ candles: [], indicators: [], start: true });
  });
});
