import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alert, batch, candle } from '../../test/contracts/store-contract.js';
import { createMemoryBus } from '../bus/memory-bus.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { createMemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../sink/pglite-store.js';
import { apiConfig } from './api-config.js';
import { type ApiServer, createApiServer } from './api-server.js';

/**
 * The dashboard's history paging (dashboard/history.js and alert-history.js, browser modules)
 * against the real API routes on a PGlite store: the newest page, the page before it, a stop of
 * the workers (a gap of many pages with no candle) crossed, the first stored candle recognised as
 * the start, the retention horizon as a start too (never a 400), and alerts caught up through `after`.
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
interface AlertHistory {
  fetchAlerts(since: number | undefined): Promise<Array<{ id: string; time: number }>>;
}
interface PageState {
  state: { retention: Record<string, number>; clockSkew: number };
}

// 50 candles, then the workers stopped for 2,000 minutes (almost 7 pages), then 400 candles.
const first = Array.from({ length: 50 }, (_, i) => T0 + i * MINUTE);
const resumed = T0 + 2_050 * MINUTE;
const second = Array.from({ length: 400 }, (_, i) => resumed + i * MINUTE);
// 20 older alerts, then 250 fired by one trade (one time), more than two pages of them.
const older = Array.from({ length: 20 }, (_, i) => alert({ id: `old-${i}`, time: T0 + i * MINUTE }));
const burstTime = resumed + 10 * MINUTE;
const burst = Array.from({ length: 250 }, (_, i) =>
  alert({ id: `burst-${String(i).padStart(3, '0')}`, time: burstTime }),
);

let store: PgliteStore;
/** An API that keeps everything, and one with retention; `target` is the one the page asks. */
let server: ApiServer;
let kept: ApiServer;
let target: ApiServer;
let history: History;
let alertHistory: AlertHistory;
let page: PageState;
const saved = { fetch: globalThis.fetch };

beforeAll(async () => {
  store = await createPgliteStore();
  await store.migrate();
  await store.commit(
    batch({ candles: [...first, ...second].map((openTime) => candle({ openTime })), alerts: [...older, ...burst] }),
  );
  const deps = {
    store,
    cache: createMemoryCache(),
    bus: createMemoryBus(),
    logger: silentLogger(),
  };
  server = createApiServer({ ...deps, registry: createRegistry({}, false), config: apiConfig({ intervals: ['1m'] }) });
  kept = createApiServer({
    ...deps,
    registry: createRegistry({}, false),
    // Kept: the 1m candles from the 200th after the stop on, and the alerts from the 10th on.
    config: apiConfig({
      intervals: ['1m'],
      retention: { '1m': Date.now() - (resumed + 200 * MINUTE), alerts: Date.now() - (T0 + 10 * MINUTE) },
    }),
  });
  await server.start(new AbortController().signal);
  await kept.start(new AbortController().signal);
  target = server;
  // What the browser gives the module: the page's URL, its storage, and fetch (here to the server).
  Object.assign(globalThis, {
    location: { search: '', href: 'http://127.0.0.1/' },
    sessionStorage: { getItem: () => null },
    fetch: async (path: string, init: { headers: Record<string, string> }) => {
      const res = await target.app.inject({ url: path, headers: init.headers });
      return {
        ok: res.statusCode < 300,
        status: res.statusCode,
        statusText: res.statusMessage,
        json: async () => res.json(),
      };
    },
  });
  history = (await import(new URL('./dashboard/history.js', import.meta.url).href)) as History;
  alertHistory = (await import(new URL('./dashboard/alert-history.js', import.meta.url).href)) as AlertHistory;
  page = (await import(new URL('./dashboard/state.js', import.meta.url).href)) as PageState;
}, 60_000);

afterAll(async () => {
  globalThis.fetch = saved.fetch;
  await server?.close();
  await kept?.close();
  await store?.close();
});

describe('the dashboard paging back through history', () => {
  it('takes the newest page, the one before it, then crosses the gap to the first stored candles', async () => {
    // Kept forever as far as the page knows (an API without retention).
    target = server;
    page.state.retention = {};
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

  it('stops at the retention horizon of /api/v1/info without asking before it', async () => {
    target = kept;
    const info = (await kept.app.inject({ url: '/api/v1/info' })).json();
    page.state.retention = info.retention;
    page.state.clockSkew = info.time - Date.now();

    // The 100 candles before second[300] reach past the horizon (second[200]): only the kept ones.
    const before = await history.fetchOlder(market, second[300] as number);
    const times = before.candles.map((c) => c.openTime);
    expect(times.length).toBeGreaterThan(90);
    expect(times[0]).toBeGreaterThan(second[200] as number);
    expect(times.at(-1)).toBe(second[299]);
    expect(before.start).toBe(false);

    // Then nothing older is kept: the start, not a 400 for a range before retention.
    expect(await history.fetchOlder(market, times[0] as number)).toEqual({ candles: [], indicators: [], start: true });
    expect(await history.fetchOlder(market, first[0] as number)).toEqual({ candles: [], indicators: [], start: true });
  });
});

describe('the dashboard catching up on alerts after a reconnection', () => {
  it('gets every alert since the newest shown, through `after`, from no earlier than retention', async () => {
    target = kept;
    const info = (await kept.app.inject({ url: '/api/v1/info' })).json();
    page.state.retention = info.retention;
    page.state.clockSkew = info.time - Date.now();

    const newest = await alertHistory.fetchAlerts(undefined);
    expect(newest).toHaveLength(100);

    // 250 alerts share the newest time: three pages of 100, joined by the cursor.
    const caughtUp = await alertHistory.fetchAlerts(burstTime);
    expect(new Set(caughtUp.filter((a) => a.time === burstTime).map((a) => a.id))).toEqual(
      new Set(burst.map((a) => a.id)),
    );

    // A time before the alerts' retention is asked from the horizon on (no 400).
    const sinceOld = await alertHistory.fetchAlerts(T0);
    const ids = new Set(sinceOld.map((a) => a.id));
    expect(ids.has('old-5')).toBe(false);
    expect(ids.has('old-15')).toBe(true);
    // old-10 and old-11 are within the minute of slack the page leaves for the clocks.
    expect(ids.size).toBe(258);
  });
});
