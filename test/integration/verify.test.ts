import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../cmd/tickmesh/verify.js';
import { actorConfig } from '../../internal/actor/config.js';
import { MarketActor } from '../../internal/actor/market-actor.js';
import { createActorOutput } from '../../internal/actor/output.js';
import { readTradeFile } from '../../internal/ingest/files/read-trade-file.js';
import type { Candle } from '../../internal/market/candle.js';
import type { Trade } from '../../internal/market/trade.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { quoteIdent } from '../../internal/sink/sql.js';
import type { Store } from '../../internal/sink/store.js';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { sharedData } from '../harness/shared-data.js';
import { spawnWorker, type WorkerProcess } from '../harness/worker-process.js';
import { caughtUp, createTradeTopics, replayWorkerArgv, sendTrades } from '../harness/worker-tables.js';

// `tickmesh verify` end to end: candles built by the actor from real Binance trades of the shared
// data and committed through the Store into a fresh schema of the real PostgreSQL, checked against
// Binance's own klines for the same minutes, served by a local stand-in of Binance's REST klines
// endpoints (limit 1000 enforced, one 429 with Retry-After). Full minutes only (each SOURCE.md):
// XRPETH spot 2019-10-11 00:01 .. 2019-10-13 11:19 (3,558 minutes, 1,091 of them without trades;
// the klines kept there have the first six fields only); BTCUSDT USD-M 2020-02-22 00:01 .. 02:05
// (124 minutes, all twelve fields).

const MIN = 60_000;
const XRP = { dir: 'binance-spot-xrpeth-2019-10-11', from: 1570752060000, to: 1570965540000 };
const BTC = { dir: 'binance-um-btcusdt-2020-02-22', from: 1582329660000, to: 1582337100000 };

/** Binance's kline rows as its REST API answers them: decimals as strings, times and count as numbers. */
function klineRows(file: string): unknown[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /^\d/.test(l))
    .map((l) => l.split(',').map((v, i) => (i === 0 || i === 6 || i === 8 ? Number(v) : v)));
}

interface StandIn {
  readonly url: string;
  readonly requests: string[];
  /** Status of each answer, in order. */
  readonly statuses: number[];
  close(): Promise<void>;
}

/** Binance's `/api/v3/klines` and `/fapi/v1/klines` over the given rows; the second request gets a 429. */
async function binanceStandIn(
  routes: Record<string, { symbol: string; rows: Record<string, unknown[][]> }>,
): Promise<StandIn> {
  const requests: string[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(`${url.pathname}${url.search}`);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      statuses.push(status);
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const route = routes[url.pathname];
    const p = url.searchParams;
    const limit = Number(p.get('limit') ?? 500);
    const rows = route?.rows[p.get('interval') ?? ''];
    if (!route || !rows || p.get('symbol') !== route.symbol) {
      return answer(400, { code: -1121, msg: 'Invalid symbol.' });
    }
    if (!(limit >= 1 && limit <= 1000)) return answer(400, { code: -1130, msg: 'limit over 1000' });
    if (requests.length === 2) return answer(429, { code: -1003, msg: 'Too many requests' }, { 'retry-after': '1' });
    const start = Number(p.get('startTime') ?? 0);
    const end = Number(p.get('endTime') ?? Number.MAX_SAFE_INTEGER);
    return answer(200, rows.filter((r) => (r[0] as number) >= start && (r[0] as number) <= end).slice(0, limit));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    statuses,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The stand-in over the two folders' real klines: BTCUSDT USD-M 1m, XRPETH spot 1m and 5m. */
function foldersStandIn(): Promise<StandIn> {
  return binanceStandIn({
    '/fapi/v1/klines': { symbol: 'BTCUSDT', rows: { '1m': klineRows(sharedData(BTC.dir, 'klines-1m.csv')) } },
    '/api/v3/klines': {
      symbol: 'XRPETH',
      rows: {
        '1m': klineRows(sharedData(XRP.dir, 'XRPETH-1m-klines.csv')),
        '5m': klineRows(sharedData(XRP.dir, 'XRPETH-5m-klines.csv')),
      },
    },
  });
}

async function readTrades(path: string, format: 'tardis' | 'binance-aggtrades'): Promise<Trade[]> {
  const trades: Trade[] = [];
  for await (const item of readTradeFile({ path, format })) {
    if (item.kind !== 'trade') throw new Error(`${path}:${item.line} rejected: ${item.reason}`);
    trades.push(item.trade);
  }
  return trades;
}

/** 1m candles of `trades` as the worker's actor builds them. */
function candlesOf(trades: readonly Trade[]): Candle[] {
  const first = trades[0];
  if (!first) throw new Error('no trades');
  const actor = new MarketActor(
    { exchange: first.exchange, symbol: first.symbol, market: first.market },
    actorConfig({ intervals: ['1m'], partialUpdates: false }),
  );
  const out = createActorOutput();
  for (const t of trades) actor.onTrade(t, 0, out);
  actor.flush(0, out);
  return [...out.closed];
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

/** `tickmesh verify` over `schema` against the stand-in at `url`: its exit code and both outputs. */
async function verifyCommand(
  args: string[],
  schema: string,
  url: string,
): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await runVerify(
    [...args, '--schema', schema, '--rest-url', url, '--requests-per-second', '50'],
    { stdout: out.stream, stderr: err.stream },
    { DATABASE_URL: endpoint('DATABASE_URL') },
    AbortSignal.timeout(60_000),
  );
  return { code, out: out.text(), err: err.text() };
}

const btcArgs = [
  '--exchange',
  'binance-futures',
  '--symbol',
  'BTCUSDT',
  '--from',
  String(BTC.from),
  '--to',
  String(BTC.to),
];
const xrpArgs = [
  '--exchange',
  'binance',
  '--symbol',
  'XRPETH',
  '--from',
  new Date(XRP.from).toISOString(),
  '--to',
  new Date(XRP.to).toISOString(),
];

describe('tickmesh verify against a Binance REST stand-in and the real PostgreSQL', () => {
  const schema = freshName('it_verify').replaceAll('-', '_');
  let store: Store;
  let standIn: StandIn;
  let btc: Trade[];
  let btcCandles: Candle[];
  let xrpCandles: Candle[];
  let epoch = 1;

  const commit = (partition: number, candles: readonly Candle[]) =>
    store.commit({
      topic: schema,
      partition,
      epoch: epoch++,
      nextOffset: 0n,
      state: new Uint8Array(),
      candles,
      alerts: [],
    });

  const verify = (args: string[]) => verifyCommand(args, schema, standIn.url);

  beforeAll(async () => {
    btc = await readTrades(sharedData(BTC.dir, 'trades.csv'), 'tardis');
    btcCandles = candlesOf(btc);
    xrpCandles = candlesOf(
      await readTrades(sharedData(XRP.dir, 'XRPETH-aggTrades-2019-10-11_13.csv'), 'binance-aggtrades'),
    );
    store = createPostgresStore({ connectionString: endpoint('DATABASE_URL'), schema, poolSize: 1 });
    await store.migrate();
    await commit(0, btcCandles);
    await commit(1, xrpCandles);
    standIn = await foldersStandIn();
  });

  afterAll(async () => {
    await standIn?.close();
    await store?.close();
    const admin = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await admin.end();
  });

  it('verifies every full XRPETH minute, empty ones included, paging 1000 a request through a 429', async () => {
    const started = Date.now();
    const r = await verify(xrpArgs);
    expect(r.out).toContain('3558 candles: 3558 verified, 0 mismatch, 0 unverifiable');
    expect(r.code).toBe(0);
    expect(xrpCandles.filter((c) => c.openTime >= XRP.from && c.openTime < XRP.to && c.trades === 0)).toHaveLength(
      1091,
    );
    // 4 pages of at most 1000 minutes, the second asked twice after the 429.
    expect(standIn.statuses).toEqual([200, 429, 200, 200, 200]);
    expect(standIn.requests[1]).toBe(standIn.requests[2]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(r.err).toMatch(/429; retry 1 in \d+ ms/);
    expect(r.err).toContain('verify: 3558/3558 windows');
  });

  it('verifies every full BTCUSDT minute on all twelve kline fields', async () => {
    const r = await verify(btcArgs);
    expect(r.out).toContain('124 candles: 124 verified, 0 mismatch, 0 unverifiable');
    expect(r.code).toBe(0);
  });

  it('names a changed close (exit 1), and a gap over it as the likely cause', async () => {
    const c = xrpCandles.find((x) => x.openTime >= XRP.from + 600 * MIN && x.trades > 0) as Candle;
    expect(c).toBeDefined();
    await commit(1, [{ ...c, close: `${c.close}9`, revision: c.revision + 1 }]);
    const r = await verify(xrpArgs);
    expect(r.code).toBe(1);
    expect(r.out).toContain('3558 candles: 3557 verified, 1 mismatch, 0 unverifiable');
    const at = new Date(c.openTime).toISOString();
    expect(r.out).toContain(`mismatch ${at}: close: ours ${c.close}9 theirs`);
    const gaps = join(tmpdir(), `${schema}-gaps.jsonl`);
    writeFileSync(gaps, `${JSON.stringify({ fromTime: c.openTime + 1_000, toTime: c.openTime + 2_000 })}\n`);
    const withGap = await verify([...xrpArgs, '--gaps', gaps]);
    expect(withGap.out).toContain(`mismatch ${at} [likely lost trades (gap)]: close:`);
    await commit(1, [{ ...c, revision: c.revision + 2 }]);
    expect((await verify(xrpArgs)).code).toBe(0);
  });

  it('names volume, count and taker sums when one trade is left out', async () => {
    const i = btc.findIndex((t) => t.eventTime >= BTC.from + 30 * MIN);
    const lost = btc[i] as Trade;
    const rebuilt = candlesOf([...btc.slice(0, i), ...btc.slice(i + 1)]);
    const changed = rebuilt.find((c) => c.openTime <= lost.eventTime && lost.eventTime <= c.closeTime) as Candle;
    await commit(0, [{ ...changed, revision: 1 }]);
    const r = await verify(btcArgs);
    expect(r.code).toBe(1);
    expect(r.out).toContain('124 candles: 123 verified, 1 mismatch');
    const line = r.out.split('\n').find((l) => l.startsWith('mismatch')) ?? '';
    expect(line).toContain(`mismatch ${new Date(changed.openTime).toISOString()}`);
    expect(line).toMatch(/volume: ours .* theirs .*; quoteVolume: .*trades: ours \d+ theirs \d+/);
  });

  it('exits 2 when the venue refuses the request', async () => {
    const r = await verify([
      '--exchange',
      'binance',
      '--symbol',
      'NOSUCH',
      '--from',
      String(XRP.from),
      '--to',
      String(XRP.from + MIN),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/venue REST answered 400/);
  });
});

// The same check after the trades went the production way: produced to a fresh trades topic of the
// real Kafka as ingest writes them, turned into candles by a spawned `tickmesh worker` (its actors,
// its one-transaction checkpoints into a fresh schema of the real PostgreSQL), and only then read
// by `tickmesh verify` against the stand-in. Nothing but the real trades goes in: each file's last
// minute is closed by its own later trades (the partition watermark passes it).
describe('tickmesh verify after the trades went through a real worker', () => {
  const schema = freshName('it_verify_worker').replaceAll('-', '_');
  const topic = freshName('verify-trades');
  let standIn: StandIn;
  let worker: WorkerProcess | undefined;
  let db: pg.Client;

  const verify = (args: string[]) => verifyCommand(args, schema, standIn.url);

  beforeAll(async () => {
    const trades = [
      ...(await readTrades(sharedData(BTC.dir, 'trades.csv'), 'tardis')),
      ...(await readTrades(sharedData(XRP.dir, 'XRPETH-aggTrades-2019-10-11_13.csv'), 'binance-aggtrades')),
    ];
    const kafka = new Kafka({
      clientId: 'verify-worker',
      brokers: endpoint('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    await createTradeTopics(kafka, topic, 2);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await sendTrades(producer, topic, trades);
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
    await admin.disconnect();
    db = new pg.Client({ connectionString: endpoint('DATABASE_URL') });
    await db.connect();
    worker = spawnWorker([
      ...replayWorkerArgv(topic, schema, 0),
      ...['--verify', 'false', '--index-actors', 'false', '--context', 'false'],
    ]);
    await worker.running;
    await eventually('the worker to commit every trade', () => caughtUp(db, schema, topic, ends), 240_000, 200);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    standIn = await foldersStandIn();
  }, 300_000);

  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await standIn?.close();
    await db?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await db?.end();
  });

  it('verifies every full XRPETH spot minute (1,091 without trades) and every full BTCUSDT USD-M minute', async () => {
    const xrp = await verify(xrpArgs);
    expect(xrp.out).toContain('3558 candles: 3558 verified, 0 mismatch, 0 unverifiable');
    expect(xrp.code).toBe(0);
    const btc = await verify(btcArgs);
    expect(btc.out).toContain('124 candles: 124 verified, 0 mismatch, 0 unverifiable');
    expect(btc.code).toBe(0);
  });

  it("verifies the worker's 5m XRPETH candles of every full window against Binance's 5m klines", async () => {
    // 00:00's window lacks its first trades, 11:15's never closed: 00:05 .. 11:10 of the third day.
    const r = await verify([
      ...xrpArgs.slice(0, 4),
      '--interval',
      '5m',
      '--from',
      String(XRP.from + 4 * MIN),
      '--to',
      String(XRP.to - 4 * MIN),
    ]);
    expect(r.out).toContain('710 candles: 710 verified, 0 mismatch, 0 unverifiable');
    expect(r.code).toBe(0);
  });
});
