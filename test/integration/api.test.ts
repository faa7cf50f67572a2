import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import {
  ALERTS_STREAM,
  alertSubject,
  CANDLES_STREAM,
  candleMsgId,
  candleSubject,
  indicatorSubject,
  verificationSubject,
} from '../../internal/bus/subject-names.js';
import type { Candle } from '../../internal/market/candle.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { createRegistry } from '../../internal/observe/metrics.js';
import { apiConfig } from '../../internal/serve/api-config.js';
import { newApiKey } from '../../internal/serve/api-keys.js';
import { type ApiServer, createApiServer } from '../../internal/serve/api-server.js';
import type { Cache } from '../../internal/sink/cache.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { createRedisCache } from '../../internal/sink/redis-cache.js';
import type { CommitBatch, Store } from '../../internal/sink/store.js';
import { alert, candle, indicators, prediction } from '../contracts/store-contract.js';
import { startApiProcess } from '../harness/api-process.js';
import { endpoint, freshName } from '../harness/env.js';
import { mismatchOf, seedVerification } from '../harness/verification-seed.js';

// The API against the real servers: candles written to PostgreSQL through the Store are read
// over HTTP, latest values come from Redis, and messages published on NATS reach a real
// WebSocket client on a real port.
const schema = freshName('api').replaceAll('-', '_');
let store: Store;
let cache: Cache;
let bus: Bus;
let server: ApiServer;
let base: string;
const registry = createRegistry({}, false);

const encoder = new TextEncoder();
const json = (v: unknown) => encoder.encode(JSON.stringify(v));
/** A venue name no other test uses: subjects and rows of this file stay its own. */
const freshExchange = () => freshName('ex');

beforeAll(async () => {
  store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema });
  await store.migrate();
  cache = createRedisCache({ url: endpoint('REDIS_URL'), keyPrefix: `${freshName('api')}:` });
  bus = await createNatsBus({ servers: endpoint('NATS_URL'), name: 'api-test' });
  await bus.ensureStream(CANDLES_STREAM);
  await bus.ensureStream(ALERTS_STREAM);
  server = createApiServer({
    store,
    cache,
    bus,
    logger: silentLogger(),
    registry,
    config: apiConfig({
      listen: { port: 0, host: '127.0.0.1' },
      stream: { maxSocketBytes: 64 << 10, bufferMessages: 100, slowClientMs: 500 },
    }),
  });
  await server.start(new AbortController().signal);
  base = server.url as string;
});

afterAll(async () => {
  await server?.close();
  await bus?.close();
  await cache?.close();
  await store?.close();
  const pool = new Pool({ connectionString: endpoint('DATABASE_URL'), max: 1 });
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

/** Commits rows through the real Store as a worker's checkpoint would (a fresh topic unless given). */
function commitRows(over: Partial<CommitBatch>): Promise<void> {
  return store.commit({
    topic: freshName('t'),
    partition: 0,
    epoch: 1,
    nextOffset: 1n,
    state: new Uint8Array(),
    candles: [],
    alerts: [],
    ...over,
  });
}

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface StreamClient {
  readonly ws: WebSocket;
  readonly messages: Array<{ type: string; data?: unknown; [k: string]: unknown }>;
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

async function streamClient(subscribe: unknown): Promise<StreamClient> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/stream`);
  const messages: StreamClient['messages'] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ subscribe }));
  const client: StreamClient = {
    ws,
    messages,
    async until(predicate, what, timeoutMs = 10_000) {
      await vi.waitUntil(predicate, { timeout: timeoutMs, interval: 20 }).catch((err: unknown) => {
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages)}`, { cause: err });
      });
    },
  };
  await client.until(() => messages.some((m) => m.type === 'subscribed'), 'subscribed');
  return client;
}

describe('API on PostgreSQL, Redis and NATS', () => {
  it('serves candles committed through the Store over HTTP, decimals exact', async () => {
    const exchange = freshExchange();
    const t0 = Date.UTC(2024, 4, 31, 23, 57);
    // Across a month boundary: two candle partitions.
    const cs: Candle[] = Array.from({ length: 6 }, (_, i) =>
      candle({ exchange, openTime: t0 + i * 60_000, close: `67000.${i}1234567890123`, quoteVolume: '1e-8' }),
    );
    await commitRows({ candles: cs, alerts: [alert({ id: freshName('a'), exchange, time: t0 })] });
    const all = await get(`/api/v1/candles?exchange=${exchange}&symbol=BTCUSDT&interval=1m`);
    expect(all.status).toBe(200);
    expect(all.body.candles).toEqual(cs.map((c) => ({ ...c, quoteVolume: '0.00000001', verification: null })));
    expect((all.body.candles as Candle[])[3]!.close).toBe('67000.31234567890123');

    const june = await get(
      `/api/v1/candles?exchange=${exchange}&symbol=BTCUSDT&interval=1m&from=2024-06-01T00:00:00Z&limit=2`,
    );
    expect((june.body.candles as Candle[]).map((c) => c.openTime)).toEqual([cs[3]!.openTime, cs[4]!.openTime]);
    expect(june.body.next).toBe(cs[4]!.openTime + 1);

    const alerts = await get(`/api/v1/alerts?exchange=${exchange}`);
    expect((alerts.body.alerts as unknown[]).length).toBe(1);

    const markets = await get('/api/v1/markets');
    expect(markets.status).toBe(200);
    const bad = await get(`/api/v1/candles?exchange=${exchange}&symbol=BTCUSDT&interval=1m&limit=-1`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/limit must be >= 1/);
  });

  it('serves the predictions committed through the Store with their scores and the baselines', async () => {
    const exchange = freshExchange();
    const t0 = Date.UTC(2024, 5, 1);
    const ps = Array.from({ length: 3 }, (_, i) => prediction({ exchange, openTime: t0 + i * 60_000 }));
    const topic = freshName('t');
    const commit = (epoch: number, predictions: typeof ps) => commitRows({ topic, epoch, predictions });
    await commit(1, ps);
    // A replay of the checkpoint with the same rows changes nothing.
    await commit(1, ps);
    const url = `/api/v1/predictions?exchange=${exchange}&symbol=BTCUSDT&interval=1m`;
    const all = await get(url);
    expect(all.status).toBe(200);
    expect(all.body.predictions).toEqual(ps);
    const page = await get(`${url}&from=${t0}&limit=2`);
    expect(page.body.predictions).toEqual(ps.slice(0, 2));
    expect(page.body.next).toBe(t0 + 60_001);
    expect((await get(`${url}&limit=0`)).status).toBe(400);
  });

  it('serves indicators committed with their candles over HTTP and streams them from NATS', async () => {
    const exchange = freshExchange();
    const t0 = Date.UTC(2024, 5, 1);
    const cs = Array.from({ length: 3 }, (_, i) => candle({ exchange, openTime: t0 + i * 60_000 }));
    const vs = cs.map((c, i) => indicators(c, { vwap: 67_000 + i / 7, volatility: i === 0 ? null : 0.1 + 0.2 }));
    await commitRows({ candles: cs, indicators: vs });
    const url = `/api/v1/indicators?exchange=${exchange}&symbol=BTCUSDT&interval=1m`;
    expect((await get(url)).body.indicators).toEqual(vs);
    const page = await get(`${url}&from=${t0}&limit=2`);
    expect(page.body.indicators).toEqual(vs.slice(0, 2));
    expect(page.body.next).toBe(t0 + 60_001);
    await cache.putIndicators(vs);
    expect((await get(`/api/v1/indicators/latest?exchange=${exchange}&symbol=BTCUSDT&interval=1m`)).body).toEqual({
      indicators: vs[2],
    });

    const client = await streamClient({ indicators: { interval: '1m', exchange } });
    for (const v of [vs[0], vs[0], vs[1]]) bus.publish(indicatorSubject(v!), json(v));
    await client.until(() => client.messages.filter((m) => m.type === 'indicator').length >= 2, 'two indicators');
    await new Promise((r) => setTimeout(r, 100));
    expect(client.messages.filter((m) => m.type === 'indicator').map((m) => m.data)).toEqual(vs.slice(0, 2));
    client.ws.close();
  });

  it('serves the candles verification from PostgreSQL and streams judgements from NATS', async () => {
    const exchange = freshExchange();
    const t0 = Date.UTC(2024, 5, 2);
    const cs = Array.from({ length: 3 }, (_, i) => candle({ exchange, openTime: t0 + i * 60_000 }));
    await commitRows({ candles: cs });
    const pool = new Pool({ connectionString: endpoint('DATABASE_URL'), max: 1 });
    try {
      const sql = (text: string, params: unknown[]) => pool.query(text, params);
      await seedVerification(sql, cs[0]!, { status: 'verified', revision: 0, checkedAt: t0 }, `"${schema}".candles`);
      await seedVerification(sql, cs[1]!, mismatchOf(0, t0 + 60_000), `"${schema}".candles`);
    } finally {
      await pool.end();
    }
    const page = await get(`/api/v1/candles?exchange=${exchange}&symbol=BTCUSDT&interval=1m`);
    expect((page.body.candles as Array<{ verification: unknown }>).map((c) => c.verification)).toEqual([
      { status: 'verified', revision: 0, checkedAt: t0 },
      mismatchOf(0, t0 + 60_000),
      null,
    ]);
    const summary = await get(`/api/v1/verification?exchange=${exchange}&symbol=BTCUSDT`);
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({
      counts: { verified: 1, mismatch: 1, unverifiable: 0, pending: 1 },
      verifiedShare: 0.5,
      next: null,
    });
    expect((summary.body.mismatches as Candle[]).map((c) => c.openTime)).toEqual([cs[1]!.openTime]);

    const client = await streamClient({ verification: { interval: '1m', exchange, status: 'mismatch' } });
    const event = { exchange, symbol: 'BTCUSDT', interval: '1m', openTime: t0, ...mismatchOf(0, t0 + 60_000) };
    const verified = { ...event, status: 'verified' as const, checkedAt: t0 + 120_000 };
    for (const v of [event, event, verified]) bus.publish(verificationSubject(v), json(v));
    await client.until(() => client.messages.some((m) => m.type === 'verification'), 'a verification');
    await new Promise((r) => setTimeout(r, 100));
    // The repeat is dropped; a verified judgement is not on the `mismatch` subscription.
    expect(client.messages.filter((m) => m.type === 'verification').map((m) => m.data)).toEqual([event]);
    client.ws.close();
  });

  it('serves the latest candle and price from Redis', async () => {
    const exchange = freshExchange();
    const open = candle({ exchange, closed: false, trades: 4 });
    await cache.putCandles([open, candle({ exchange, closed: false, trades: 3 })]);
    await cache.putPrices([
      { exchange, symbol: 'BTCUSDT', market: 'BTC-USDT', price: '67000.5', time: open.openTime + 1, tradeId: '12' },
    ]);
    expect((await get(`/api/v1/candles/latest?exchange=${exchange}&symbol=BTCUSDT&interval=1m`)).body).toEqual({
      candle: open,
    });
    const price = await get(`/api/v1/prices/latest?exchange=${exchange}&symbol=BTCUSDT`);
    expect(price.body.price).toMatchObject({ price: '67000.5', tradeId: '12' });
    expect((await get(`/api/v1/prices/latest?exchange=${freshExchange()}&symbol=BTCUSDT`)).status).toBe(404);
  });

  it('forwards NATS messages to a WebSocket client once each, JetStream repeats included', async () => {
    const exchange = freshExchange();
    const client = await streamClient({
      candles: { interval: '1m', exchange, symbol: '*' },
      alerts: { exchange },
    });
    const partial = candle({ exchange, closed: false, trades: 5 });
    const closed = candle({ exchange, trades: 6 });
    const a = alert({ id: freshName('alert'), exchange });
    bus.publish(candleSubject('partial', partial), json(partial));
    bus.publish(candleSubject('partial', partial), json(partial));
    // A worker that crashed after publishing and before its checkpoint publishes again on replay.
    for (let i = 0; i < 2; i++) {
      await bus.publishDurable(candleSubject('closed', closed), json(closed), { msgId: candleMsgId(closed) });
      await bus.publishDurable(alertSubject(a), json(a), { msgId: a.id });
    }
    const other = candle({ exchange: freshExchange(), closed: false });
    bus.publish(candleSubject('partial', other), json(other));
    const late = candle({ exchange, trades: 7, revision: 1 });
    await bus.publishDurable(candleSubject('closed', late), json(late), { msgId: candleMsgId(late) });
    await bus.flush();

    const data = (type: string) => client.messages.filter((m) => m.type === type).map((m) => m.data);
    await client.until(() => data('candle').length >= 3 && data('alert').length >= 1, 'candles and the alert');
    await new Promise((r) => setTimeout(r, 300));
    expect(data('candle')).toEqual([partial, closed, late]);
    expect(data('alert')).toEqual([a]);
    client.ws.close();
  });

  it('a client that stops reading is closed as too slow; what it missed was dropped, not buffered', async () => {
    const exchange = freshExchange();
    const client = await streamClient({ candles: { interval: '1m', exchange } });
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    // The client's socket stops reading: the kernel buffers fill, then the server's.
    (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const padding = 'x'.repeat(2_000);
    for (let i = 0; i < 8_000; i++) {
      const c = candle({ exchange, closed: false, trades: i + 1, firstTradeId: padding });
      bus.publish(candleSubject('partial', c), json(c));
      if (i % 500 === 0) await bus.flush();
    }
    await bus.flush();
    const slowCloses = async () =>
      Number(/tickmesh_api_stream_slow_closes_total (\d+)/.exec(await registry.metrics())?.[1]);
    await expect.poll(slowCloses, { timeout: 15_000, interval: 100 }).toBe(1);
    // Reading again, the client finds the connection closed: 1013 when the close frame got
    // through behind the queued data, 1006 when the server had to cut the socket.
    (client.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([1013, 1006]).toContain(await closed);
    const got = client.messages.filter((m) => m.type === 'candle').length;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(8_000);
  });

  it('refuses a browser page of another origin, and closes a client that floods bad messages unread', async () => {
    const url = `${base.replace('http', 'ws')}/api/v1/stream`;
    const evil = new WebSocket(url, { origin: 'http://evil.example' });
    await expect(new Promise((resolve, reject) => evil.once('open', resolve).once('error', reject))).rejects.toThrow(
      /403/,
    );

    // 5,000 bad 1.5 KB messages from a client that reads nothing: it is closed at once (over
    // its message rate), not answered 5,000 times into a queue nobody reads.
    const client = await streamClient({});
    await client.until(() => client.messages.some((m) => m.type === 'subscribed'), 'subscribed');
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const bad = JSON.stringify({
      subscribe: { candles: Array.from({ length: 20 }, () => ({ interval: 'x'.repeat(60) })) },
    });
    expect(bad.length).toBeGreaterThan(1_400);
    for (let i = 0; i < 5_000 && client.ws.readyState === WebSocket.OPEN; i++) client.ws.send(bad);
    const start = Date.now();
    const metrics = () => registry.metrics();
    while (!/tickmesh_api_stream_rejected_total\{reason="rate"\} 1/.test(await metrics())) {
      if (Date.now() - start > 10_000) throw new Error('the flooding client was not closed');
      await new Promise((r) => setTimeout(r, 50));
    }
    (client.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([1008, 1006]).toContain(await closed);
    expect(client.messages.filter((m) => m.type === 'error').length).toBeLessThanOrEqual(10);
  });

  it('the dashboard and probes are served on the same port, /metrics is not', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="chart"/);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('tickmesh api runs as a process on the environment endpoints, with keys, and drains on SIGTERM', async () => {
    const { key, line } = newApiKey('test');
    const dir = await mkdtemp(join(tmpdir(), 'api-keys-'));
    const keysFile = join(dir, 'api-keys');
    await writeFile(keysFile, `${line}\n`);
    const api = await startApiProcess(['--schema', schema], { TICKMESH_API_KEYS_FILE: keysFile });
    const { child, url, metricsPort, exited } = api;
    try {
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(404);
      // The internal port: /metrics of the API's registry and /readyz.
      const internal = `http://127.0.0.1:${metricsPort}`;
      expect(await (await fetch(`${internal}/metrics`)).text()).toMatch(
        /tickmesh_api_requests_total\{route="\/readyz"/,
      );
      expect(await (await fetch(`${internal}/readyz`)).text()).toBe('ready\n');
      // Keys on (the file from the environment): 401 without one, the page public.
      expect((await fetch(`${url}/api/v1/info`)).status).toBe(401);
      expect((await fetch(`${url}/`)).status).toBe(200);
      const authorization = `Bearer ${key}`;
      const info = (await (await fetch(`${url}/api/v1/info`, { headers: { authorization } })).json()) as {
        source: { label: string };
      };
      expect(info.source.label).toBe('workers over NATS');
      const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/stream?api_key=${encodeURIComponent(key)}`);
      const closeCode = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      child.kill('SIGTERM');
      expect(await closeCode).toBe(1001);
      expect(await exited).toBe(0);
      expect(api.output()).toMatch(/"api stopped"/);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
