import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openCapture } from '../../internal/ingest/captures/capture-file.js';
import { decodeReject } from '../../internal/ingest/events.js';
import { createIngestor, type VenueConfig } from '../../internal/ingest/ingestor.js';
import { type LocalCapture, startLocalCapture } from '../../internal/ingest/testing/local-capture.js';
import type { IngestTopics } from '../../internal/ingest/topics.js';
import { capturedFrames } from '../../internal/ingest/venues/testing.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaProducer } from '../../internal/log/kafka-producer.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { klinePushParser, type VenueKlinePush } from '../../internal/verify/kline-push.js';
import { decodeKlineRecord, type KlineRecord } from '../../internal/verify/kline-record.js';
import { endpoint, freshName } from '../harness/env.js';
import { sharedData } from '../harness/shared-data.js';
import { brokers, metricValues, readAll, readTrades } from './ingest-support.js';

// The venues' recorded trade and kline frames (shared/data/venue-ws-captures and
// binance-ws-captures, read there) played back by local stand-ins, each to an adapter subscribed
// as the capture was, through the whole ingest path into the real Kafka. What the klines topic
// holds is compared with what the captures pushed.

interface Tape {
  /** The venue as ingest names it, and how the capture was subscribed. */
  readonly config: Omit<VenueConfig, 'wsUrl'>;
  readonly frames: readonly string[];
  /** The trades and the frames with kline pushes the capture holds (SOURCE.md; Bybit's 75 kline messages are 71 frames). */
  readonly trades: number;
  readonly klineFrames: number;
  readonly wsPath: string;
}

async function binanceFutures(): Promise<Tape> {
  const capture = await openCapture(sharedData('binance-ws-captures', 'cryptofeed_BINANCE_FUTURES.ws.1.0'));
  const frames: string[] = [];
  for await (const f of capture.frames()) frames.push(f.data);
  return {
    config: { venue: 'binance-futures', symbols: ['SUSHIUSDT', 'AKROUSDT', 'KEEPUSDT', 'CTKUSDT'], stream: 'aggTrade' },
    frames,
    trades: 91,
    klineFrames: 67,
    wsPath: '/stream',
  };
}

function jsonl(file: string, urlEnd?: string) {
  return capturedFrames(file)
    .filter((f) => urlEnd === undefined || f.url.endsWith(urlEnd))
    .map((f) => f.data);
}

async function tapes(): Promise<Tape[]> {
  return [
    await binanceFutures(),
    {
      // Binance.US speaks Binance spot's protocol.
      config: { venue: 'binance', symbols: ['CRVUSDT', 'COMPUSDT', 'OMGBUSD', 'ZRXUSDT'], stream: 'aggTrade' },
      frames: jsonl('binance_us_aggTrade_kline.jsonl'),
      trades: 11,
      klineFrames: 5,
      wsPath: '/stream',
    },
    {
      config: { venue: 'bybit-linear', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT'] },
      frames: jsonl('bybit_v5_publicTrade_kline.jsonl', '/linear'),
      trades: 327,
      klineFrames: 71,
      wsPath: '/',
    },
    {
      config: { venue: 'bybit', symbols: ['BTCUSDT', 'ETHUSDT'] },
      frames: jsonl('bybit_v5_publicTrade_kline.jsonl', '/spot'),
      trades: 20,
      klineFrames: 25,
      wsPath: '/',
    },
    {
      config: { venue: 'coinbase', symbols: ['BTC-USD', 'ETH-USD'] },
      frames: jsonl('coinbase_advanced_market_trades_candles.jsonl'),
      trades: 279,
      klineFrames: 6,
      wsPath: '/',
    },
  ];
}

/** What the capture pushed, by the parser the adapters use: the expectation, per venue. */
function pushedBy(tape: Tape): VenueKlinePush[] {
  const parse = klinePushParser(tape.config.venue);
  if (parse === undefined) throw new Error(`no kline parser for ${tape.config.venue}`);
  const out: VenueKlinePush[] = [];
  let frames = 0;
  for (const f of tape.frames) {
    const r = parse(f);
    if ('reject' in r) throw new Error(`${tape.config.venue}: ${r.reject}`);
    if (r.pushes.length > 0) frames += 1;
    out.push(...r.pushes);
  }
  expect(frames, tape.config.venue).toBe(tape.klineFrames);
  return out;
}

const stands: LocalCapture[] = [];
let all: Tape[] = [];
let topics: Required<IngestTopics>;
let klines: Array<{ key: string | null; partition: number; record: KlineRecord }> = [];
let tradePartitions = new Map<string, Set<number>>();
let registry: Registry;

beforeAll(async () => {
  all = await tapes();
  const base = freshName('klines');
  topics = {
    trades: `${base}.trades`,
    rejects: `${base}.rejected`,
    gaps: `${base}.gaps`,
    klines: `${base}.klines`,
  };
  const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'klines-test-admin', logger: silentLogger() });
  try {
    // The klines topic with the trades topic's partition count, as `tickmesh topics` makes them.
    for (const t of [topics.trades, topics.klines]) await admin.ensureTopic(t, 6);
    for (const t of [topics.rejects, topics.gaps]) await admin.ensureTopic(t, 1);
  } finally {
    await admin.close();
  }
  const venues: VenueConfig[] = [];
  for (const tape of all) {
    const stand = await startLocalCapture({ frames: tape.frames, wsPath: tape.wsPath });
    stands.push(stand);
    venues.push({ ...tape.config, wsUrl: stand.wsUrl, restUrl: '' });
  }
  registry = new Registry();
  const producer = await createKafkaProducer({
    brokers: brokers(),
    clientId: 'klines-test',
    logger: silentLogger(),
    registry,
    lingerMs: 2,
  });
  const ingestor = createIngestor({
    venues,
    producer,
    logger: silentLogger(),
    registry,
    topics,
    // Every interval the captures hold (Binance and Bybit 1m, Coinbase 5m) and one they do not.
    klineIntervals: ['1m', '5m', '1h'],
  });
  await ingestor.start(new AbortController().signal);
  const sum = async (name: string) => (await metricValues(registry, name)).reduce((a, v) => a + v.value, 0);
  const wantKlines = all.reduce((a, t) => a + pushedBy(t).length, 0);
  const wantTrades = all.reduce((a, t) => a + t.trades, 0);
  await vi
    .waitUntil(
      async () =>
        (await sum('tickmesh_ingest_klines_received_total')) >= wantKlines &&
        (await sum('tickmesh_ingest_trades_total')) >= wantTrades,
      { timeout: 30_000, interval: 50 },
    )
    .catch(() => {});
  await ingestor.drain();
  await producer.close();
  klines = (await readAll(topics.klines)).map((r) => {
    const d = decodeKlineRecord(Buffer.from(r.value).toString('utf8'));
    if (!('record' in d)) throw new Error(d.reject);
    expect(r.headers['tm-schema']).toBe('kline.v1');
    return { key: r.key, partition: r.partition, record: d.record };
  });
  tradePartitions = new Map();
  for (const t of await readTrades(topics.trades)) {
    const set = tradePartitions.get(t.key ?? '') ?? new Set();
    set.add(t.partition);
    tradePartitions.set(t.key ?? '', set);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(stands.splice(0).map((s) => s.close()));
});

describe('the venues kline channels from recorded captures into the real Kafka', () => {
  it('holds every kline push of every capture once, per venue and interval, nothing rejected', async () => {
    const counts = (rs: Array<{ exchange: string; interval: string }>) => {
      const m: Record<string, number> = {};
      for (const r of rs) m[`${r.exchange} ${r.interval}`] = (m[`${r.exchange} ${r.interval}`] ?? 0) + 1;
      return m;
    };
    const expected = all.flatMap((t) => pushedBy(t).map((p) => ({ exchange: t.config.venue, interval: p.interval })));
    expect(counts(klines.map((k) => k.record))).toEqual(counts(expected));
    expect(counts(klines.map((k) => k.record))).toMatchObject({
      'binance-futures 1m': 67,
      'binance 1m': 5,
      'bybit-linear 1m': 75,
      'bybit 1m': 25,
    });
    expect(klines.filter((k) => k.record.exchange === 'coinbase').every((k) => k.record.interval === '5m')).toBe(true);
    const appended = await metricValues(registry, 'tickmesh_ingest_klines_appended_total');
    expect(appended.find((v) => v.labels.venue === 'binance-futures' && v.labels.interval === '1m')?.value).toBe(67);
    const rejects = (await readAll(topics.rejects)).map((r) => decodeReject(r.value, r.headers));
    expect(rejects).toEqual([]);
  });

  it('holds each push field for field as the venue sent it, in the order it was sent per market', () => {
    for (const tape of all) {
      const venue = tape.config.venue;
      const got = klines
        .filter((k) => k.record.exchange === venue)
        .map(({ record: { v: _v, exchange: _e, receivedAt: _r, ...push } }) => push);
      // The topic's order is per partition; the capture's order per market is kept.
      const byKey = (ps: readonly VenueKlinePush[]) => {
        const m = new Map<string, VenueKlinePush[]>();
        for (const p of ps) m.set(p.symbol, [...(m.get(p.symbol) ?? []), p]);
        return m;
      };
      expect(byKey(got), venue).toEqual(byKey(pushedBy(tape)));
    }
    // A few by their values in the capture files.
    const ctk = klines.find((k) => k.record.symbol === 'CTKUSDT')?.record;
    expect(ctk).toMatchObject({ exchange: 'binance-futures', market: 'CTK-USDT', interval: '1m', final: false });
    expect(ctk?.kline).toEqual({
      openTime: 1626992700000,
      open: '1.01000',
      high: '1.01100',
      low: '1.01000',
      close: '1.01100',
      volume: '3917',
      quoteVolume: '3957.89900',
      trades: 48,
      takerBuyVolume: '1729',
      takerBuyQuoteVolume: '1748.01900',
    });
    const btc = klines.find((k) => k.record.exchange === 'bybit-linear' && k.record.symbol === 'BTCUSDT')?.record;
    expect(btc?.kline).toEqual({
      openTime: 1786310760000,
      open: '65119.9',
      high: '65119.9',
      low: '65114.2',
      close: '65114.3',
      volume: '1.576',
      quoteVolume: '102627.995',
    });
    const finals = klines.filter((k) => k.record.exchange === 'binance-futures' && k.record.final);
    expect(finals.length).toBeGreaterThan(0);
    expect(finals.every((k) => k.record.kline.openTime === 1626992700000)).toBe(true);
  });

  it("keys each kline as its market's trades and puts it in the same partition number", () => {
    let shared = 0;
    for (const { key, partition, record } of klines) {
      expect(key).toBe(`${record.exchange}:${record.symbol}`);
      const trades = tradePartitions.get(key as string);
      if (trades === undefined) continue; // a market that pushed klines but traded nothing in the capture
      expect([...trades], key as string).toEqual([partition]);
      shared += 1;
    }
    // Most pushes are of markets that traded too; spread over more than one partition.
    expect(shared).toBeGreaterThan(klines.length / 2);
    expect(new Set(klines.map((k) => k.partition)).size).toBeGreaterThan(1);
  });
});

describe('tickmesh ingest and the klines topic', () => {
  it("refuses to start when the klines topic's partition count is not the trades topic's", async () => {
    const base = freshName('klines-count');
    const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'klines-test-admin', logger: silentLogger() });
    try {
      await admin.ensureTopic(`${base}.trades`, 4);
      await admin.ensureTopic(`${base}.klines`, 2);
      for (const t of ['rejected', 'gaps']) await admin.ensureTopic(`${base}.${t}`, 1);
    } finally {
      await admin.close();
    }
    const main = resolve(import.meta.dirname, '../../cmd/tickmesh/main.ts');
    const args = [
      ...['--import', 'tsx', main, 'ingest', '--venue', 'sim', '--symbols', 'BTC-USD', '--metrics-port', '0'],
      ...['--trades-topic', `${base}.trades`, '--klines-topic', `${base}.klines`],
      ...['--rejects-topic', `${base}.rejected`, '--gaps-topic', `${base}.gaps`],
    ];
    const failed = await promisify(execFile)(process.execPath, args, {
      env: { ...process.env, KAFKA_BROKERS: endpoint('KAFKA_BROKERS'), LOG_LEVEL: 'warn' },
      timeout: 90_000,
    }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain(`topic ${base}.klines has 2 partitions, ${base}.trades has 4`);
  }, 120_000);
});
