import { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { alert, candle, indicators, prediction } from '../../test/contracts/store-contract.js';
import { mismatchOf, seedVerification } from '../../test/harness/verification-seed.js';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import {
  alertSubject,
  candleSubject,
  indexSubject,
  indicatorSubject,
  priceSubject,
  verificationSubject,
} from '../bus/subject-names.js';
import type { Candle } from '../market/candle.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { UnavailableError } from '../runtime/errors.js';
import { createMemoryCache, type MemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore, type PgliteStore } from '../sink/pglite-store.js';
import type { Store } from '../sink/store.js';
import { apiConfig, type StreamConfig } from './api-config.js';
import { type ApiServer, type ApiServerDeps, createApiServer } from './api-server.js';
import { type ResponseConformance, watchResponses } from './testing/response-conformance.js';

// One PGlite for the file (starting one takes seconds); each test gets a fresh schema.
let database: PGlite;
let n = 0;
beforeAll(async () => {
  database = await PGlite.create();
}, 120_000);
afterAll(async () => {
  await database?.close();
});

const JAN = Date.UTC(2024, 0, 15, 10, 0);
const encoder = new TextEncoder();
const json = (v: unknown) => encoder.encode(JSON.stringify(v));

interface Fixture {
  readonly server: ApiServer;
  readonly app: FastifyInstance;
  readonly store: PgliteStore;
  readonly bus: MemoryBus;
  readonly cache: MemoryCache;
  readonly registry: Registry;
  readonly conformance: ResponseConformance;
  /** The PGlite the store's schema is in (its search path is the store's). */
  readonly database: PGlite;
}

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) {
    // Every answer a test drew is one the OpenAPI document describes.
    expect(await f.conformance.violations()).toEqual([]);
    await f.server.close();
    await f.bus.close();
    await f.store.close();
  }
});

async function fixture(
  over: Parameters<typeof apiConfig>[0] = {},
  wrap: (s: Store) => Pick<Store, 'candles' | 'indicators' | 'alerts' | 'markets' | 'predictions'> = (s) => s,
  seed: (s: Store) => Promise<void> = async () => {},
): Promise<Fixture> {
  const store = await createPgliteStore({ database, schema: `api_${++n}` });
  await store.migrate();
  await seed(store);
  const bus = createMemoryBus();
  const cache = createMemoryCache();
  const registry = createRegistry({}, false);
  const server = createApiServer({
    store: wrap(store),
    cache,
    bus,
    logger: silentLogger(),
    registry,
    config: apiConfig({ intervals: ['1m', '5m', '1h'], source: { label: 'test', simulated: undefined }, ...over }),
  });
  const conformance = watchResponses(server.app);
  await server.start(new AbortController().signal);
  const f = { server, app: server.app, store, bus, cache, registry, conformance, database };
  open.push(f);
  return f;
}

/** A server on an empty store that is not started. */
function storeless(over: Partial<ApiServerDeps> = {}): ApiServer {
  return createApiServer({
    store: {
      candles: async () => [],
      indicators: async () => [],
      alerts: async () => [],
      markets: async () => [],
      predictions: async () => [],
    },
    cache: createMemoryCache(),
    bus: createMemoryBus(),
    logger: silentLogger(),
    registry: createRegistry({}, false),
    config: apiConfig(),
    ...over,
  });
}

let epoch = 0;
async function commit(
  store: Store,
  candles: Candle[],
  alerts: ReturnType<typeof alert>[] = [],
  predictions: ReturnType<typeof prediction>[] = [],
  indicators: IndicatorValues[] = [],
): Promise<void> {
  await store.commit({
    topic: 't',
    partition: 0,
    epoch: ++epoch,
    nextOffset: 1n,
    state: new Uint8Array(),
    candles,
    alerts,
    predictions,
    indicators,
  });
}

describe('REST', () => {
  it('indicators come from the store with their candle, paged like candles, exact doubles', async () => {
    const { app, store, cache } = await fixture();
    const cs = Array.from({ length: 5 }, (_, i) => candle({ openTime: JAN + i * 60_000 }));
    const vs = cs.map((c, i) =>
      indicators(c, {
        vwap: 42_000.1 + i / 3,
        sma: { '2': i < 1 ? null : 42_000 + 0.1 * i, '20': null },
        ema: { '9': i < 2 ? null : Math.PI * 1e4 + i },
        volatility: i < 3 ? null : 0.1 + 0.2,
        imbalance: i === 2 ? null : -1 / 3,
      }),
    );
    await commit(store, cs, [], [], vs);
    const url = '/api/v1/indicators?exchange=binance&symbol=BTCUSDT&interval=1m';
    const all = await app.inject({ url });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', indicators: vs, next: null });
    expect((await app.inject({ url: `${url}&limit=2` })).json().indicators).toEqual(vs.slice(3));
    const first = (await app.inject({ url: `${url}&from=${JAN}&limit=2` })).json();
    expect(first.indicators).toEqual(vs.slice(0, 2));
    expect(first.next).toBe(JAN + 60_001);
    const second = (await app.inject({ url: `${url}&from=${first.next}&limit=2` })).json();
    expect(second.indicators).toEqual(vs.slice(2, 4));
    expect((await app.inject({ url: `${url}&from=x` })).statusCode).toBe(400);

    const latest = '/api/v1/indicators/latest?exchange=binance&symbol=BTCUSDT&interval=1m';
    expect((await app.inject({ url: latest })).statusCode).toBe(404);
    await cache.putIndicators(vs);
    expect((await app.inject({ url: latest })).json()).toEqual({ indicators: vs.at(-1) });
  });

  it('candles come from the store in open time order with exact decimal strings', async () => {
    const { app, store } = await fixture();
    const stored = Array.from({ length: 5 }, (_, i) =>
      candle({ openTime: JAN + i * 60_000, close: `42000.${i}00000001`, volume: '0.000000010000' }),
    );
    await commit(store, [...stored, candle({ symbol: 'ETHUSDT', market: 'ETH-USDT' })]);
    // Not judged by the reconciler yet: each says so with a null verification.
    const cs = stored.map((c) => ({ ...c, verification: null }));

    const all = await app.inject({ url: '/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m' });
    expect(all.statusCode).toBe(200);
    const body = all.json();
    expect(body.candles).toEqual(cs);
    expect(body.candles[2].close).toBe('42000.200000001');
    expect(typeof body.candles[0].volume).toBe('string');
    expect(body.next).toBeNull();

    const range = await app.inject({
      url: `/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&from=${JAN + 60_000}&to=2024-01-15T10:03:00Z`,
    });
    expect(range.json().candles).toEqual(cs.slice(1, 3));

    // A page that fills its limit says where the next one starts, and the next one continues.
    const page1 = (
      await app.inject({ url: `/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&from=${JAN}&limit=2` })
    ).json();
    expect(page1.candles).toEqual(cs.slice(0, 2));
    expect(page1.next).toBe(cs[1]!.openTime + 1);
    const page2 = (
      await app.inject({
        url: `/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&from=${page1.next}&limit=2`,
      })
    ).json();
    expect(page2.candles).toEqual(cs.slice(2, 4));

    // Only a limit: the newest rows, still oldest first.
    const latest = await app.inject({ url: '/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&limit=2' });
    expect(latest.json().candles).toEqual(cs.slice(3));
  });

  it('predictions come from the store with the scores next to the baselines, paged like candles', async () => {
    const { app, store } = await fixture();
    const ps = Array.from({ length: 3 }, (_, i) => prediction({ openTime: JAN + i * 60_000 }));
    await commit(store, [], [], [...ps, prediction({ interval: '5m' })]);
    const url = '/api/v1/predictions?exchange=binance&symbol=BTCUSDT&interval=1m';
    const all = (await app.inject({ url })).json();
    expect(all).toEqual({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', predictions: ps, next: null });
    expect(Object.keys(all.predictions[0].scores.baselines).sort()).toEqual(['coin', 'majority', 'persistence']);
    expect(all.predictions[0].scores.model.logLoss).toBe(0.6812345678901234);
    const page1 = (await app.inject({ url: `${url}&from=${JAN}&limit=2` })).json();
    expect(page1.predictions).toEqual(ps.slice(0, 2));
    expect(page1.next).toBe(JAN + 60_001);
    const page2 = (await app.inject({ url: `${url}&from=${page1.next}&limit=2` })).json();
    expect(page2).toMatchObject({ predictions: ps.slice(2), next: null });
    const bad = await app.inject({ url: '/api/v1/predictions?exchange=binance&symbol=BTCUSDT&interval=2m' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/interval must be one of: 1m, 5m, 1h/);
    expect((await app.inject({ url: `${url}&from=200&to=100` })).statusCode).toBe(400);
  });

  it('verification: counts, the verified share and the mismatches per market, paged with after', async () => {
    const { app, store, database: db } = await fixture();
    const cs = Array.from({ length: 4 }, (_, i) => candle({ openTime: JAN + i * 60_000 }));
    const eth = candle({ symbol: 'ETHUSDT', market: 'ETH-USDT', interval: '5m' });
    await commit(store, [...cs, eth]);
    const sql = (text: string, params: unknown[]) => db.query(text, params);
    const verified = { status: 'verified' as const, revision: 0, conventionDifferences: [], checkedAt: JAN };
    await seedVerification(sql, cs[0]!, verified);
    await seedVerification(sql, cs[1]!, mismatchOf(0, JAN + 1));
    await seedVerification(sql, cs[2]!, mismatchOf(0, JAN + 2));
    await seedVerification(sql, eth, verified);

    // The candles route carries each candle's judgement, null where there is none yet.
    const page = (await app.inject({ url: '/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m' })).json();
    expect(
      page.candles.map((c: { verification: { status: string } | null }) => c.verification?.status ?? null),
    ).toEqual(['verified', 'mismatch', 'mismatch', null]);
    expect(page.candles[1].verification).toEqual(mismatchOf(0, JAN + 1));

    const all = (await app.inject({ url: '/api/v1/verification' })).json();
    expect(all.counts).toEqual({ verified: 2, mismatch: 2, unverifiable: 0, pending: 1 });
    expect(all.verifiedShare).toBe(0.5);
    expect(all.markets.map((m: { symbol: string; verifiedShare: number }) => [m.symbol, m.verifiedShare])).toEqual([
      ['BTCUSDT', 1 / 3],
      ['ETHUSDT', 1],
    ]);
    expect(all.markets[1].intervals).toEqual([
      { interval: '5m', counts: { verified: 1, mismatch: 0, unverifiable: 0, pending: 0 }, verifiedShare: 1 },
    ]);
    // Without a start: the newest mismatches, oldest first, and no next.
    expect(all.mismatches.map((c: Candle) => c.openTime)).toEqual([JAN + 60_000, JAN + 120_000]);
    expect(all.next).toBeNull();

    const url = `/api/v1/verification?exchange=binance&symbol=BTCUSDT&interval=1m&from=${JAN}&limit=1`;
    const first = (await app.inject({ url })).json();
    expect(first).toMatchObject({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m' });
    expect(first.mismatches.map((c: Candle) => c.openTime)).toEqual([JAN + 60_000]);
    const second = (await app.inject({ url: `${url}&after=${first.next}` })).json();
    expect(second.mismatches.map((c: Candle) => c.openTime)).toEqual([JAN + 120_000]);
    const bad = await app.inject({ url: '/api/v1/verification?after=bm90LWEtY3Vyc29y' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/after is not the next/);
    expect((await app.inject({ url: '/api/v1/verification?status=mismatch' })).statusCode).toBe(400);
  });

  it('candles filtered by verification status: a judgement of an earlier revision is pending', async () => {
    const { app, store, database: db } = await fixture();
    const cs = Array.from({ length: 5 }, (_, i) => candle({ openTime: JAN + i * 60_000 }));
    await commit(store, cs);
    const sql = (text: string, params: unknown[]) => db.query(text, params);
    await seedVerification(sql, cs[0]!, { status: 'verified', revision: 0, conventionDifferences: [], checkedAt: JAN });
    await seedVerification(sql, cs[1]!, mismatchOf(0, JAN + 1));
    await seedVerification(sql, cs[2]!, { status: 'unverifiable', revision: 0, reason: 'no kline', checkedAt: JAN });
    // A mismatch of revision 0 on a candle now at revision 1: not judged yet.
    await seedVerification(sql, cs[3]!, mismatchOf(0, JAN + 3));
    await db.query('UPDATE candles SET revision = 1 WHERE open_time = $1::timestamptz', [
      new Date(cs[3]!.openTime).toISOString(),
    ]);
    const base = '/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m';
    const times = async (query: string) => {
      const r = await app.inject({ url: `${base}${query}` });
      expect(r.statusCode).toBe(200);
      return r.json().candles.map((c: Candle) => (c.openTime - JAN) / 60_000);
    };
    expect(await times('&verification=verified')).toEqual([0]);
    expect(await times('&verification=mismatch')).toEqual([1]);
    expect(await times('&verification=unverifiable')).toEqual([2]);
    expect(await times('&verification=pending')).toEqual([3, 4]);
    expect(await times(`&verification=pending&from=${JAN + 4 * 60_000}`)).toEqual([4]);
    expect(await times('')).toEqual([0, 1, 2, 3, 4]);
    const bad = await app.inject({ url: `${base}&verification=wrong` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/verification must be one of/);
    // Only candles have a judgement: the other series refuse the filter.
    expect(
      (await app.inject({ url: `/api/v1/indicators?${base.split('?')[1]}&verification=verified` })).statusCode,
    ).toBe(400);
  });

  it('refuses bad query parameters with a 400 that names them', async () => {
    const { app } = await fixture();
    const cases: Array<[string, RegExp]> = [
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT', /querystring must have 'interval'/],
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=2m', /interval must be one of: 1m, 5m, 1h/],
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&limit=0', /limit must be >= 1/],
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&limit=99999', /limit must be <= 5000/],
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&limit=ten', /limit must be integer/],
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&from=yesterday', /from must be Unix epoch/],
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&from=2024-02-30', /from is not a valid date/],
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&from=200&to=100', /from must be before/],
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&intreval=1m', /unknown parameter 'intreval'/],
      ['/api/v1/candles/latest?exchange=binance&interval=1m', /must have 'symbol'/],
      ['/api/v1/prices/latest?exchange=&symbol=BTCUSDT', /exchange must NOT have fewer than 1 characters/],
      ['/api/v1/alerts?limit=5000', /limit must be <= 1000/],
      ['/api/v1/markets?interval=7m', /interval must be one of/],
      // Past the year 9999 no SQL timestamp holds it: refused here, not a 500 from the database.
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&to=999999999999999', /to is not a valid date/],
      ['/api/v1/alerts?from=999999999999999', /from is not a valid date between 1970-01-01 and 9999-12-31/],
      // A NUL or another control character would reach the database, which refuses it.
      ['/api/v1/candles?exchange=bin%00ance&symbol=BTCUSDT&interval=1m', /exchange must be printable ASCII/],
      ['/api/v1/alerts?symbol=BTC%07USDT', /symbol must be printable ASCII/],
      // Coerced to Infinity by the schema's type coercion, which then checks no bound.
      ['/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m&limit=1e309', /limit must be an integer from 1/],
      ['/api/v1/alerts?limit=-1e309', /limit must be/],
      ['/api/v1/prices/latest?exchange=binance&symbol=BTC%C3%A9', /symbol must be printable ASCII/],
    ];
    for (const [url, message] of cases) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'TM_BAD_QUERY' });
      expect(res.json().message, url).toMatch(message);
    }
    const missing = await app.inject({ url: '/api/v1/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'TM_NOT_FOUND' });
  });

  it('latest candle and price come from the cache; absent ones are 404', async () => {
    const { app, cache } = await fixture();
    const partial = candle({ closed: false, openTime: JAN, trades: 3 });
    await cache.putCandles([partial]);
    await cache.putPrices([
      { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT', price: '42005.25', time: JAN + 5, tradeId: '9' },
    ]);
    const c = await app.inject({ url: '/api/v1/candles/latest?exchange=binance&symbol=BTCUSDT&interval=1m' });
    expect(c.statusCode).toBe(200);
    expect(c.json()).toEqual({ candle: partial });
    const p = await app.inject({ url: '/api/v1/prices/latest?exchange=binance&symbol=BTCUSDT' });
    expect(p.json().price).toMatchObject({ price: '42005.25', tradeId: '9' });

    const none = await app.inject({ url: '/api/v1/candles/latest?exchange=binance&symbol=BTCUSDT&interval=5m' });
    expect(none.statusCode).toBe(404);
    expect(none.json().message).toMatch(/no 5m candle of binance BTCUSDT/);
    expect((await app.inject({ url: '/api/v1/prices/latest?exchange=okx&symbol=BTCUSDT' })).statusCode).toBe(404);
  });

  it('markets: stored ones at start, live ones from bus prices, with the cached price and candle', async () => {
    const eth = { exchange: 'okx', symbol: 'ETH-USDT', market: 'ETH-USDT' };
    const { app, bus, cache } = await fixture({}, undefined, (s) =>
      commit(s, [candle(), candle({ symbol: 'ETHUSDT', market: 'ETH-USDT' })]),
    );
    const stored = (await app.inject({ url: '/api/v1/markets' })).json();
    expect(stored.markets).toEqual([
      { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT', lastSeen: null, price: null },
      { exchange: 'binance', symbol: 'ETHUSDT', market: 'ETH-USDT', lastSeen: null, price: null },
    ]);

    // A market that trades appears at once, before any of its candles is stored.
    bus.publish(priceSubject(eth), json({ ...eth, price: '3000.5', time: JAN }));
    const live = candle({ ...eth, closed: false });
    await cache.putCandles([live]);
    await cache.putPrices([{ ...eth, price: '3000.5', time: JAN, tradeId: '7' }]);
    await new Promise((r) => setTimeout(r, 10));
    const markets = (await app.inject({ url: '/api/v1/markets?interval=1m' })).json().markets;
    expect(markets.map((m: { exchange: string; symbol: string }) => `${m.exchange}:${m.symbol}`)).toEqual([
      'binance:BTCUSDT',
      'binance:ETHUSDT',
      'okx:ETH-USDT',
    ]);
    expect(markets[2]).toMatchObject({ ...eth, candle: live, price: { price: '3000.5', tradeId: '7' } });
    expect(markets[2].lastSeen).toBeGreaterThan(0);
    expect(markets[0].candle).toBeNull();
  });

  it('alerts: newest first page by default, filters by market and time', async () => {
    const { app, store } = await fixture();
    const as = Array.from({ length: 5 }, (_, i) => alert({ id: `a${i}`, time: JAN + i * 1000 }));
    const eth = alert({ id: 'e', symbol: 'ETHUSDT', market: 'ETH-USDT', time: JAN + 500 });
    await commit(store, [], [...as, eth]);
    const newest = (await app.inject({ url: '/api/v1/alerts?limit=2' })).json();
    expect(newest.alerts).toEqual(as.slice(3));
    const btc = (await app.inject({ url: '/api/v1/alerts?symbol=BTCUSDT' })).json();
    expect(btc.alerts.map((a: { id: string }) => a.id)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    const from = (await app.inject({ url: `/api/v1/alerts?from=${JAN + 1000}&limit=2` })).json();
    expect(from.alerts.map((a: { id: string }) => a.id)).toEqual(['a1', 'a2']);
    expect(from.alerts[0].evidence).toEqual(as[1]!.evidence);
  });

  it('alerts: paged forward with next through alerts sharing a time, filtered by kind', async () => {
    const { app, store } = await fixture();
    // Three alerts at one instant: a page may end between them, and `next` must not skip one.
    const as = Array.from({ length: 7 }, (_, i) =>
      alert({ id: `a${i}`, time: JAN + Math.floor(i / 3) * 1000, kind: i % 2 === 0 ? 'price_spike' : 'divergence' }),
    );
    await commit(store, [], as);
    const seen: string[] = [];
    let url = `/api/v1/alerts?from=${JAN}&limit=2`;
    for (let pages = 0; pages < 10; pages++) {
      const page = (await app.inject({ url })).json();
      seen.push(...page.alerts.map((a: { id: string }) => a.id));
      if (page.next === null) break;
      url = `/api/v1/alerts?after=${page.next}&limit=2`;
    }
    expect(seen).toEqual(as.map((a) => a.id));
    const kinds = (await app.inject({ url: `/api/v1/alerts?from=${JAN}&kind=divergence&limit=2` })).json();
    expect(kinds.alerts.map((a: { id: string }) => a.id)).toEqual(['a1', 'a3']);
    const rest = (await app.inject({ url: `/api/v1/alerts?after=${kinds.next}&kind=divergence` })).json();
    expect([rest.alerts.map((a: { id: string }) => a.id), rest.next]).toEqual([['a5'], null]);
    // The newest page (no start) has no next, as candles.
    expect((await app.inject({ url: '/api/v1/alerts?limit=2' })).json().next).toBeNull();
    const bad = await app.inject({ url: '/api/v1/alerts?after=bm9wZQ' });
    expect([bad.statusCode, bad.json().message]).toEqual([400, 'querystring/after is not the next of an alerts page']);
    expect((await app.inject({ url: '/api/v1/alerts?kind=nope' })).statusCode).toBe(400);
  });

  it('refuses a range that starts before its retention with 400 and says where retention starts', async () => {
    const day = 86_400_000;
    const { app } = await fixture({ retention: { '1m': day, alerts: 7 * day } });
    const now = Date.now();
    const get = async (url: string) => {
      const res = await app.inject({ url });
      return [res.statusCode, res.json().message as string | undefined] as const;
    };
    const market = 'exchange=binance&symbol=BTCUSDT';
    const old = await get(`/api/v1/candles?${market}&interval=1m&from=${now - 2 * day}`);
    expect(old[0]).toBe(400);
    expect(old[1]).toMatch(
      /^1m candles are kept 1d, from \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+\) on: from must not be earlier$/,
    );
    const horizon = Number(/\((\d+)\)/.exec(old[1] as string)?.[1]);
    expect(Math.abs(horizon - (now - day))).toBeLessThan(60_000);
    expect((await get(`/api/v1/indicators?${market}&interval=1m&to=${now - 2 * day}`))[1]).toMatch(
      /^1m indicators are kept 1d, .*: to must be later$/,
    );
    expect((await get(`/api/v1/candles?${market}&interval=1m&from=${now - 3_600_000}`))[0]).toBe(200);
    expect((await get(`/api/v1/candles?${market}&interval=1m`))[0]).toBe(200);
    // An interval kept forever.
    expect((await get(`/api/v1/candles?${market}&interval=5m&from=0`))[0]).toBe(200);
    expect((await get(`/api/v1/alerts?from=${now - 8 * day}`))[1]).toMatch(/^alerts are kept 7d, /);
    expect((await get(`/api/v1/alerts?from=${now - 6 * day}`))[0]).toBe(200);
    expect((await app.inject({ url: '/api/v1/info' })).json().retention).toEqual({ '1m': day, alerts: 7 * day });
  });

  it('a store that is down answers 503 with the reason, and the process stays up', async () => {
    const down = (s: Store) => ({
      candles: () => Promise.reject(new UnavailableError('database unreachable')),
      indicators: () => Promise.reject(new UnavailableError('database unreachable')),
      alerts: () => Promise.reject(new UnavailableError('database unreachable')),
      predictions: () => Promise.reject(new UnavailableError('database unreachable')),
      markets: () => s.markets(),
    });
    const { app } = await fixture({}, down);
    const res = await app.inject({ url: '/api/v1/candles?exchange=binance&symbol=BTCUSDT&interval=1m' });
    expect(res.statusCode).toBe(503);
    const predictions = await app.inject({ url: '/api/v1/predictions?exchange=binance&symbol=BTCUSDT&interval=1m' });
    expect(predictions.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({ code: 'TM_UNAVAILABLE', message: 'database unreachable' });
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('info says simulated when the process knows, or when simulator markets trade', async () => {
    const known = await fixture({ source: { label: 'SIMULATED', simulated: true } });
    expect((await known.app.inject({ url: '/api/v1/info' })).json()).toMatchObject({
      simulated: true,
      source: { label: 'SIMULATED' },
      intervals: ['1m', '5m', '1h'],
    });
    const guess = await fixture();
    expect((await guess.app.inject({ url: '/api/v1/info' })).json().simulated).toBe(false);
    guess.bus.publish(
      priceSubject({ market: 'BTC-USDT', exchange: 'sim', symbol: 'BTC-USDT' }),
      json({ exchange: 'sim', symbol: 'BTC-USDT', market: 'BTC-USDT' }),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect((await guess.app.inject({ url: '/api/v1/info' })).json().simulated).toBe(true);
  });

  it('probes and the dashboard files; the reasons and /metrics are not on the public port', async () => {
    const unstarted = storeless();
    const starting = await unstarted.app.inject({ url: '/readyz' });
    expect([starting.statusCode, starting.body]).toEqual([503, 'not ready\n']);
    expect(unstarted.notReadyReason()).toBe('starting');
    await unstarted.close();
    expect(unstarted.notReadyReason()).toBe('shutting down');

    const { app, server, registry } = await fixture();
    expect((await app.inject({ url: '/readyz' })).body).toBe('ready\n');
    expect(server.notReadyReason()).toBeUndefined();
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(404);

    // A dependency that is not ready: 503 and nothing more in public; the part and its reason
    // (an error's text, which may name hosts and users) for the internal probe port.
    const problem = 'partition 0 cannot commit: password authentication failed for "tm"';
    let workerProblem: string | undefined = problem;
    const embedded = storeless({ dependencies: { ingest: () => undefined, worker: () => workerProblem } });
    await embedded.start(new AbortController().signal);
    const notReady = await embedded.app.inject({ url: '/readyz' });
    expect([notReady.statusCode, notReady.body]).toEqual([503, 'not ready\n']);
    expect(embedded.notReadyReason()).toBe(`worker is not ready: ${problem}`);
    workerProblem = undefined;
    expect((await embedded.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    await embedded.close();

    await app.inject({ url: '/api/v1/info' });
    const metrics = { body: await registry.metrics() };
    expect(metrics.body).toMatch(/tickmesh_api_requests_total\{route="\/api\/v1\/info",method="GET",status="200"\} 1/);
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.body).toMatch(/SIMULATED DATA/);
    // Everything the page loads is served here: no CDN.
    const refs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    // The chart library's attribution is a link to its authors, not something the page loads.
    const loaded = refs.filter((r) => !r.startsWith('data:') && r !== 'https://www.tradingview.com/');
    for (const ref of loaded) {
      expect(ref.startsWith('/'), ref).toBe(true);
      expect((await app.inject({ url: ref })).statusCode, ref).toBe(200);
    }
    // The entry module and every module it imports, followed through their relative imports.
    const modules = new Set(refs.filter((r) => r.endsWith('.js')));
    expect(modules).toEqual(new Set(['/dashboard/dashboard.js']));
    for (const url of modules) {
      const js = await app.inject({ url });
      expect(js.statusCode, url).toBe(200);
      expect(js.headers['content-type'], url).toMatch(/^text\/javascript/);
      expect(js.body, url).not.toMatch(/https?:\/\//);
      for (const [, rel] of js.body.matchAll(/^(?:import .*|\}) from '(\.\/[a-z-]+\.js)';$/gm)) {
        modules.add(new URL(rel!, `http://x${url}`).pathname);
      }
    }
    expect(modules.size).toBeGreaterThan(10);
    // The chart library, from its npm package: an ES module, revalidated by its version.
    const lib = await app.inject({ url: '/dashboard/vendor/lightweight-charts.js' });
    expect(lib.statusCode).toBe(200);
    expect(lib.headers['content-type']).toMatch(/^text\/javascript/);
    expect(lib.body).toMatch(/export\{[^}]*\bcreateChart\b/);
    const etag = lib.headers.etag as string;
    expect(etag).toMatch(/^"lightweight-charts-\d+\.\d+\.\d+"$/);
    const again = await app.inject({
      url: '/dashboard/vendor/lightweight-charts.js',
      headers: { 'if-none-match': etag },
    });
    expect([again.statusCode, again.body]).toEqual([304, '']);
    const css = await app.inject({ url: '/dashboard/dashboard.css' });
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });

  it('serves no file outside the dashboard folder, nor one of another kind in it', async () => {
    const { app } = await fixture();
    const paths = [
      '/dashboard/..%2Fdashboard.ts',
      '/dashboard/..%2F..%2F..%2Fpackage.json',
      '/dashboard/%2e%2e%2fapi-server.ts',
      '/dashboard/..%5Cdashboard.ts',
      '/dashboard/%2Fetc%2Fpasswd',
      '/dashboard/../dashboard.ts',
      '/dashboard/dashboard/dashboard.js',
      '/dashboard/.dashboard.js',
      '/dashboard/index.html',
      '/dashboard/absent.js',
      '/dashboard/dashboard.js%00.ts',
      '/dashboard.js',
      '/dashboard/vendor/dashboard.js',
      '/dashboard/vendor/package.json',
      '/dashboard/vendor/..%2F..%2Fpackage.json',
      '/dashboard/vendor/constructor',
    ];
    for (const url of paths) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ statusCode: 404 });
    }
  });
});

describe('WebSocket stream', () => {
  interface Client {
    readonly ws: WebSocket;
    readonly messages: Array<{ type: string; [k: string]: unknown }>;
    next(type: string, count?: number): Promise<Array<Record<string, unknown>>>;
  }

  async function connect(app: FastifyInstance, headers: Record<string, string> = {}): Promise<Client> {
    const messages: Client['messages'] = [];
    const ws = await app.injectWS(
      '/api/v1/stream',
      { headers },
      {
        onInit: (w) => w.on('message', (d) => messages.push(JSON.parse(d.toString()))),
      },
    );
    return {
      ws,
      messages,
      next(type, count = 1) {
        const enough = () => {
          const got = messages.filter((m) => m.type === type);
          if (got.length < count)
            throw new Error(`expected ${count} ${type} message(s), got ${JSON.stringify(messages)}`);
          return got;
        };
        return vi.waitFor(enough, { timeout: 2_000, interval: 10 });
      },
    };
  }

  it('says hello, subscribes, forwards matching candles, alerts and index values, once each', async () => {
    const { app, bus, registry } = await fixture({ source: { label: 'SIMULATED', simulated: true } });
    await bus.ensureStream({ name: 'A', subjects: ['tickmesh.alert.>'] });
    await bus.ensureStream({ name: 'C', subjects: ['tickmesh.candle.closed.>'] });
    const client = await connect(app);
    expect((await client.next('hello'))[0]).toMatchObject({ simulated: true, source: { label: 'SIMULATED' } });
    client.ws.send(
      JSON.stringify({
        subscribe: { candles: { interval: '1m', exchange: 'binance', symbol: '*' }, alerts: true, index: true },
      }),
    );
    expect((await client.next('subscribed'))[0]!.subjects).toEqual([
      'tickmesh.candle.*.1m.binance.*',
      'tickmesh.alert.*.*.*',
      'tickmesh.index.*',
    ]);

    const p1 = candle({ closed: false, trades: 1 });
    const p2 = candle({ closed: false, trades: 2 });
    const closed = candle({ trades: 2 });
    bus.publish(candleSubject('partial', p1), json(p1));
    bus.publish(candleSubject('partial', p2), json(p2));
    bus.publish(candleSubject('partial', p1), json(p1)); // overtaken: not sent
    // At-least-once: a worker replaying after a crash publishes the closed candle again.
    await bus.publishDurable(candleSubject('closed', closed), json(closed), { msgId: 'x' });
    await bus.publishDurable(candleSubject('closed', closed), json(closed), { msgId: 'x' });
    const other = candle({ exchange: 'okx', closed: false });
    bus.publish(candleSubject('partial', other), json(other)); // other exchange: not subscribed
    const a = alert();
    await bus.publishDurable(alertSubject(a), json(a), { msgId: a.id });
    await bus.publishDurable(alertSubject(a), json(a), { msgId: a.id });
    const index = { asset: 'BTC', price: 42000.5, time: JAN, venues: [] };
    bus.publish(indexSubject('BTC'), json(index));
    bus.publish(indexSubject('BTC'), json(index));
    const revised = candle({ trades: 3, revision: 1 });
    await bus.publishDurable(candleSubject('closed', revised), json(revised), { msgId: 'y' });

    const candles = await client.next('candle', 4);
    await client.next('alert');
    await client.next('index');
    await new Promise((r) => setTimeout(r, 30));
    expect(client.messages.filter((m) => m.type === 'candle').map((m) => m.data)).toEqual(
      [p1, p2, closed, revised].map((c) => ({ ...c })),
    );
    expect(candles[0]!.subject).toBe('tickmesh.candle.partial.1m.binance.BTCUSDT');
    expect(client.messages.filter((m) => m.type === 'alert').map((m) => m.data)).toEqual([a]);
    expect(client.messages.filter((m) => m.type === 'index').map((m) => m.data)).toEqual([index]);
    const metrics = { body: await registry.metrics() };
    expect(metrics.body).toMatch(/tickmesh_api_stream_duplicates_total 4/);
    expect(metrics.body).toMatch(/tickmesh_api_stream_connections 1/);
    client.ws.terminate();
  });

  it('forwards a closed candle again when it comes judged, to a closed-only `candles` subscription, once', async () => {
    const { app, bus } = await fixture();
    const client = await connect(app);
    await client.next('hello');
    client.ws.send(JSON.stringify({ subscribe: { candles: { interval: '1m', kind: 'closed' } } }));
    await client.next('subscribed');
    const closed = candle();
    const judged = { ...closed, verification: mismatchOf(0, JAN + 90_000) };
    for (const c of [closed, judged, closed, judged]) bus.publish(candleSubject('closed', c), json(c));
    await client.next('candle', 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(client.messages.filter((m) => m.type === 'candle').map((m) => m.data)).toEqual([closed, judged]);
    client.ws.terminate();
  });

  it('forwards the indicators of closed candles to an `indicators` subscription, once each', async () => {
    const { app, bus } = await fixture();
    const client = await connect(app);
    await client.next('hello');
    client.ws.send(JSON.stringify({ subscribe: { indicators: { interval: '1m', symbol: 'BTCUSDT' } } }));
    expect((await client.next('subscribed'))[0]!.subjects).toEqual(['tickmesh.indicator.1m.*.BTCUSDT']);
    const v1 = indicators(candle());
    const v2 = indicators(candle({ openTime: JAN + 60_000 }), { volatility: 0.42 });
    const other = indicators(candle({ interval: '5m' }));
    for (const v of [v1, v1, other, v2]) bus.publish(indicatorSubject(v), json(v)); // v1 again: a replay
    const got = await client.next('indicator', 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(client.messages.filter((m) => m.type === 'indicator').map((m) => m.data)).toEqual([v1, v2]);
    expect(got[0]!.subject).toBe('tickmesh.indicator.1m.binance.BTCUSDT');
    client.ws.terminate();
  });

  it('forwards the judgements of closed candles to a `verification` subscription, once each', async () => {
    const { app, bus } = await fixture();
    const client = await connect(app);
    await client.next('hello');
    client.ws.send(JSON.stringify({ subscribe: { verification: { interval: '*', exchange: 'binance' } } }));
    expect((await client.next('subscribed'))[0]!.subjects).toEqual(['tickmesh.verification.*.*.binance.*']);
    const key = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', openTime: JAN };
    const v1 = { ...key, ...mismatchOf(0, JAN + 60_000) };
    const v2 = { ...key, status: 'verified', revision: 1, conventionDifferences: [], checkedAt: JAN + 120_000 };
    const other = { ...v1, exchange: 'okx' };
    // v1 again: a repeat; v1 after v2: an older revision, not sent.
    for (const v of [v1, v1, other, v2, v1]) bus.publish(verificationSubject(v), json(v));
    const got = await client.next('verification', 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(client.messages.filter((m) => m.type === 'verification').map((m) => m.data)).toEqual([v1, v2]);
    expect(got[0]!.subject).toBe('tickmesh.verification.mismatch.1m.binance.BTCUSDT');
    client.ws.terminate();
  });

  it('answers a bad subscription with an error and keeps the connection', async () => {
    const { app } = await fixture();
    const client = await connect(app);
    client.ws.send('not json');
    client.ws.send(JSON.stringify({ subscribe: { candles: { interval: '2m' } } }));
    client.ws.send(JSON.stringify({ subscribe: { candle: true } }));
    const errors = await client.next('error', 3);
    expect(errors[0]!.error).toBe('message is not JSON');
    expect(errors[1]!.error).toMatch(/subscribe\.candles/);
    expect(errors[2]!.error).toMatch(/candle/);
    client.ws.send(JSON.stringify({ subscribe: { alerts: { kind: 'whale_trade' } } }));
    expect((await client.next('subscribed'))[0]!.subjects).toEqual(['tickmesh.alert.whale_trade.*.*']);
    client.ws.terminate();
  });

  const closed = (ws: WebSocket) =>
    new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );

  it('refuses browser pages of other origins with 403; same origin, allowed ones and non-browsers connect', async () => {
    const { app, registry } = await fixture({ stream: { allowedOrigins: ['https://dash.example'] } });
    await expect(connect(app, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(connect(app, { origin: 'null' })).rejects.toThrow(/403/);
    const clients = [
      await connect(app),
      await connect(app, { origin: 'http://api.example:8080', host: 'api.example:8080' }),
      await connect(app, { origin: 'https://dash.example' }),
    ];
    for (const c of clients) await c.next('hello');
    for (const c of clients) c.ws.terminate();
    const metrics = { body: await registry.metrics() };
    expect(metrics.body).toMatch(/tickmesh_api_stream_rejected_total\{reason="origin"\} 2/);
  });

  /** A real client of a listening server: resolves once open, rejects with the refusal. */
  const open = (url: string, options?: WebSocket.ClientOptions) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, options);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  const listening = async (stream: Partial<StreamConfig>) => {
    const { server } = await fixture({ stream, listen: { port: 0, host: '127.0.0.1' } });
    return `${server.url!.replace('http', 'ws')}/api/v1/stream`;
  };

  it('holds at most maxConnectionsPerAddress per client address, and frees a place when one leaves', async () => {
    const url = await listening({ maxConnectionsPerAddress: 3 });
    const clients = await Promise.all([open(url), open(url), open(url)]);
    await expect(open(url)).rejects.toThrow(/429/);
    const gone = closed(clients[0]!);
    clients[0]!.close();
    await gone;
    await new Promise((r) => setTimeout(r, 20));
    clients.push(await open(url));
    for (const c of clients) c.terminate();

    // Upgrades that arrive together all pass the check before any is counted: the extra ones are
    // closed with 1008 once open, so the bound still holds.
    const burstUrl = await listening({ maxConnectionsPerAddress: 3 });
    const burst = await Promise.allSettled(Array.from({ length: 8 }, () => open(burstUrl)));
    await new Promise((r) => setTimeout(r, 100));
    const opened = burst.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(opened.filter((ws) => ws.readyState === WebSocket.OPEN)).toHaveLength(3);
    for (const ws of opened) ws.terminate();
  });

  it('closes a connection whose message is over maxPayloadBytes with 1009', async () => {
    const { app } = await fixture({ stream: { maxPayloadBytes: 1_024 } });
    const client = await connect(app);
    await client.next('hello');
    const end = closed(client.ws);
    client.ws.send(JSON.stringify({ subscribe: { alerts: { kind: 'x'.repeat(2_000) } } }));
    expect((await end).code).toBe(1009);
  });

  it('a pong counts only when it answers the server ping: a client that pongs without reading is dropped', async () => {
    const url = await listening({ pingMs: 60 });
    const [honest, faking] = await Promise.all([open(url), open(url, { autoPong: false })]);
    const fakePongs = setInterval(() => faking.pong(Buffer.from('alive')), 10);
    const fakeEnd = closed(faking);
    let honestClosed = false;
    honest!.on('close', () => {
      honestClosed = true;
    });
    const timeout = new Promise((r) => setTimeout(() => r('still open'), 1_000));
    expect(await Promise.race([fakeEnd.then(() => 'closed'), timeout])).toBe('closed');
    clearInterval(fakePongs);
    expect(honestClosed).toBe(false);
    honest.terminate();
  });

  it('closes stream clients with 1001 on shutdown', async () => {
    const { app, server } = await fixture();
    const client = await connect(app);
    await client.next('hello');
    const closed = new Promise<number>((resolve) => client.ws.on('close', (code) => resolve(code)));
    await server.drain();
    expect(await closed).toBe(1001);
  });
});
