import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeGap, type GapEvent } from '../../internal/ingest/events.js';
import { readProducedIds } from '../../internal/ingest/resume.js';
import { type LocalBinance, range, startLocalBinance } from '../../internal/ingest/testing/local-binance.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import type { Trade } from '../../internal/market/trade.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { loadRealTrades } from '../support/real-trades.js';
import {
  brokers,
  freshTopics,
  ingestScenario,
  type LoggedTrade,
  metricValues,
  readAll,
  readTrades,
  runIngest,
} from './ingest-support.js';

// The real BTCUSDT trades re-framed as Binance `@trade` messages by a local server that speaks
// Binance's protocol; what lands in the real Kafka topics is what is asserted.
const N = 3_000;
let trades: Trade[] = [];
const exchanges: LocalBinance[] = [];

beforeAll(async () => {
  trades = (await loadRealTrades()).slice(0, N);
});
afterEach(async () => {
  await Promise.all(exchanges.splice(0).map((e) => e.close()));
});

async function exchange(script: Parameters<typeof startLocalBinance>[0]['script']) {
  const ex = await startLocalBinance({ trades, script });
  exchanges.push(ex);
  return ex;
}

function scenario(ex: LocalBinance, expected: number, opts: { restUrl?: string; staleAfterMs?: number } = {}) {
  const venue = {
    venue: 'binance-futures',
    symbols: ['BTCUSDT'],
    wsUrl: ex.wsUrl,
    restUrl: opts.restUrl ?? ex.restUrl,
  };
  return ingestScenario(venue, expected, opts.staleAfterMs);
}

/** Trade ids per key in log order (one key here, so one partition, so log order is production order). */
function idsByKey(records: LoggedTrade[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { trade: t, ...r } of records) {
    expect(r.key).toBe(`${t.exchange}:${t.symbol}`);
    const list = out.get(r.key ?? '') ?? [];
    list.push(t.tradeId);
    out.set(r.key ?? '', list);
  }
  return out;
}

const ids = (from: number, to: number) => trades.slice(from, to).map((t) => t.tradeId);

function expectExactlyOnceInOrder(records: LoggedTrade[], expected: string[]) {
  const byKey = idsByKey(records);
  expect([...byKey.keys()]).toEqual(['binance-futures:BTCUSDT']);
  expect(new Set(records.map((r) => r.partition)).size).toBe(1);
  expect(byKey.get('binance-futures:BTCUSDT')).toEqual(expected);
}

describe('ingest from a local Binance into Kafka', () => {
  it('clean run: every trade once, in order, decimals untouched', async () => {
    const ex = await exchange((n) => (n === 1 ? { send: range(0, N), after: 'silent' } : undefined));
    const { records, gaps, rejects } = await scenario(ex, N);
    expectExactlyOnceInOrder(records, ids(0, N));
    const first = (records[0] as LoggedTrade).trade;
    expect(first).toMatchObject({ price: trades[0]?.price, size: trades[0]?.size, side: trades[0]?.side });
    expect(first.eventTime).toBe(trades[0]?.eventTime);
    expect(gaps).toEqual([]);
    expect(rejects).toEqual([]);
  });

  it('disconnect with overlap: the repeated trades are produced once', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: range(0, 1500), after: 'drop' } : { send: range(1200, N), after: 'silent' },
    );
    const { records, gaps, registry } = await scenario(ex, N);
    expectExactlyOnceInOrder(records, ids(0, N));
    expect(gaps).toEqual([]);
    expect(ex.connections).toBe(2);
    const dup = await metricValues(registry, 'tickmesh_ingest_duplicates_total');
    expect(dup[0]?.value).toBe(300);
    const reconnects = await metricValues(registry, 'tickmesh_ingest_reconnects_total');
    expect(reconnects.map((v) => [v.labels.reason, v.value])).toEqual([['venue-closed', 1]]);
  });

  it('disconnect with a gap and a REST server: the gap is backfilled in order and reported', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: range(0, 1000), after: 'drop' } : { send: range(1400, N), after: 'silent' },
    );
    const { records, gaps } = await scenario(ex, N);
    expectExactlyOnceInOrder(records, ids(0, N));
    expect(gaps).toEqual<GapEvent[]>([
      {
        venue: 'binance-futures',
        symbol: 'BTCUSDT',
        market: 'BTC-USDT',
        fromId: trades[1000]?.tradeId as string,
        toId: trades[1399]?.tradeId as string,
        missing: 400,
        backfilled: 400,
        unrecovered: 0,
        unrecoveredRanges: [],
        detectedAt: expect.any(Number) as unknown as number,
        backfill: 'complete',
      },
    ]);
    expect(ex.restRequests.every((r) => r.startsWith('/fapi/v1/historicalTrades?symbol=BTCUSDT'))).toBe(true);
  });

  it('disconnect with a gap and no reachable REST server: the gap is recorded, never skipped silently', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: range(0, 1000), after: 'drop' } : { send: range(1400, N), after: 'silent' },
    );
    // A port nothing listens on: the backfill fails and the gap is kept as unrecovered.
    const { records, gaps, registry } = await scenario(ex, N - 400, { restUrl: 'http://127.0.0.1:9' });
    expectExactlyOnceInOrder(records, [...ids(0, 1000), ...ids(1400, N)]);
    expect(gaps).toMatchObject([
      {
        fromId: trades[1000]?.tradeId,
        toId: trades[1399]?.tradeId,
        missing: 400,
        backfilled: 0,
        unrecovered: 400,
        unrecoveredRanges: [[trades[1000]?.tradeId, trades[1399]?.tradeId]],
        backfill: 'failed',
      },
    ]);
    const gapTrades = await metricValues(registry, 'tickmesh_ingest_gap_trades_total');
    expect(gapTrades.map((v) => [v.labels.outcome, v.value])).toEqual([
      ['backfilled', 0],
      ['unrecovered', 400],
    ]);
  });

  it('stale connection: a silent socket is replaced and nothing is lost', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: range(0, 1000), after: 'silent' } : { send: range(900, N), after: 'silent' },
    );
    const started = Date.now();
    const { records, registry } = await scenario(ex, N, { staleAfterMs: 600 });
    expectExactlyOnceInOrder(records, ids(0, N));
    expect(Date.now() - started).toBeGreaterThan(600);
    const reconnects = await metricValues(registry, 'tickmesh_ingest_reconnects_total');
    expect(reconnects.map((v) => [v.labels.reason, v.value])).toEqual([['stale', 1]]);
  });

  it('malformed frames: rejected by reason, kept on the rejects topic, the connector carries on', async () => {
    const bad = new Map<number, string>([
      [100, '{"stream":"btcusdt@trade","data":{"e":"trade"'],
      [200, '{"stream":"btcusdt@weird","data":{"e":"weird","s":"BTCUSDT"}}'],
      [
        300,
        '{"stream":"ethusdt@trade","data":{"e":"trade","s":"ETHUSDT","t":1,"p":"1","q":"1","T":1582329602111,"m":true}}',
      ],
      [
        400,
        '{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"-9682","q":"1","T":1582329602111,"m":true}}',
      ],
      [
        500,
        '{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"9682","q":"0","T":1582329602111,"m":true}}',
      ],
    ]);
    // The garbage is sent in addition to the tape: positions past N carry it, interleaved by index.
    const send: number[] = [];
    const inject = new Map<number, string>();
    for (let i = 0; i < N; i++) {
      const g = bad.get(i);
      if (g !== undefined) {
        inject.set(send.length, g);
        send.push(-1);
      }
      send.push(i);
    }
    const ex = await exchange((n) => (n === 1 ? { send, inject, after: 'silent' } : undefined));
    const { records, rejects, gaps, registry } = await scenario(ex, N);
    expectExactlyOnceInOrder(records, ids(0, N));
    expect(gaps).toEqual([]);
    expect(rejects.map((r) => r.reason)).toEqual([
      'malformed-frame',
      'unknown-message',
      'unknown-symbol',
      'bad-price',
      'bad-size',
    ]);
    expect(rejects[0]?.raw).toBe(bad.get(100));
    const counted = await metricValues(registry, 'tickmesh_ingest_rejects_total');
    expect(counted.reduce((a, v) => a + v.value, 0)).toBe(5);
  });

  it('restart: the new process resumes from the log, drops the overlap and backfills the downtime', async () => {
    const topics = await freshTopics();
    const venue = (ex: LocalBinance) => ({
      venue: 'binance-futures',
      symbols: ['BTCUSDT'],
      wsUrl: ex.wsUrl,
      restUrl: ex.restUrl,
    });
    const feed = { reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 100, staleAfterMs: 5_000 };
    // The first process produces trades 0..999, then stops.
    const before = await exchange(() => ({ send: range(0, 1000), after: 'silent' }));
    await runIngest({ venues: [venue(before)], topics, feed }, 1000);
    // The second one reads the log back; the venue then sends 900..999 again and, after a
    // reconnect, continues at 1400: 1000..1399 happened while no process was running.
    const admin = await createKafkaAdmin({ brokers: brokers(), clientId: 'resume-admin', logger: silentLogger() });
    const consumer = await createKafkaConsumer({
      brokers: brokers(),
      clientId: 'resume',
      logger: silentLogger(),
      topic: topics.trades,
    });
    const resume = await readProducedIds({
      ends: await admin.endOffsets(topics.trades),
      consumer,
      topic: topics.trades,
      // 500 records hold all 1,000 trades (batch records); the newest 500 ids are kept.
      tail: 500,
      idsPerKey: 500,
      wanted: (key) => key.startsWith('binance-futures:'),
      signal: AbortSignal.timeout(30_000),
      logger: silentLogger(),
    });
    await consumer.close();
    await admin.close();
    expect([...resume.keys()]).toEqual(['binance-futures:BTCUSDT']);
    expect(resume.get('binance-futures:BTCUSDT')?.ids).toEqual(ids(500, 1000));
    const after = await exchange((n) =>
      n === 1 ? { send: range(900, 1000), after: 'drop' } : { send: range(1400, N), after: 'silent' },
    );
    await runIngest({ venues: [venue(after)], topics, feed, resume, backfillTimeoutMs: 3_000 }, N - 1000);
    const records = await readTrades(topics.trades);
    expectExactlyOnceInOrder(records, ids(0, N));
    const gaps = (await readAll(topics.gaps)).map((r) => decodeGap(r.value, r.headers));
    expect(gaps).toMatchObject([
      {
        fromId: trades[1000]?.tradeId,
        toId: trades[1399]?.tradeId,
        missing: 400,
        backfilled: 400,
        backfill: 'complete',
      },
    ]);
  });
});
