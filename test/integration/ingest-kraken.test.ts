import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GapEvent } from '../../internal/ingest/events.js';
import { range } from '../../internal/ingest/testing/local-binance.js';
import { type LocalKraken, startLocalKraken } from '../../internal/ingest/testing/local-kraken.js';
import type { Trade } from '../../internal/market/trade.js';
import { loadRealTrades } from '../support/real-trades.js';
import { expectTapeInOrder, ingestScenario, type LoggedTrade, metricValues } from './ingest-support.js';

// The real BTCUSDT trades played as Kraken's BTC/USD by a local server that speaks Kraken's
// WebSocket v2 and REST protocols (several trades a frame, snapshots on subscribe, backfill
// paged by time); what lands in the real Kafka topics is what is asserted.
const N = 3_000;
const KEY = 'kraken:BTC/USD';
let trades: Trade[] = [];
const exchanges: LocalKraken[] = [];

beforeAll(async () => {
  trades = (await loadRealTrades())
    .slice(0, N)
    .map((t) => ({ ...t, exchange: 'kraken', symbol: 'BTC/USD', market: 'BTC-USD' }));
});
afterEach(async () => {
  await Promise.all(exchanges.splice(0).map((e) => e.close()));
});

async function exchange(script: Parameters<typeof startLocalKraken>[0]['script'], restPage?: number) {
  const ex = await startLocalKraken({ trades, script, ...(restPage ? { restPage } : {}) });
  exchanges.push(ex);
  return ex;
}

function scenario(ex: LocalKraken, expected: number, restUrl = ex.restUrl) {
  return ingestScenario({ venue: 'kraken', symbols: ['BTC/USD'], wsUrl: ex.wsUrl, restUrl }, expected);
}

const ids = (from: number, to: number) => trades.slice(from, to).map((t) => t.tradeId);

const expectExactlyOnceInOrder = (records: LoggedTrade[], expected: string[]) =>
  expectTapeInOrder(records, KEY, trades, expected);

describe('ingest from a local Kraken into Kafka', () => {
  it('clean run: every trade once, in order, several trades a frame', async () => {
    const ex = await exchange((n) => (n === 1 ? { send: range(0, N), after: 'silent' } : undefined));
    const { records, gaps, rejects } = await scenario(ex, N);
    expectExactlyOnceInOrder(records, ids(0, N));
    expect(gaps).toEqual([]);
    expect(rejects).toEqual([]);
  });

  it("disconnect: the new subscription's snapshot overlaps what was produced and is produced once", async () => {
    const ex = await exchange((n) =>
      n === 1
        ? { send: range(0, 1500), after: 'drop' }
        : { snapshot: range(1450, 1500), send: range(1500, N), after: 'silent' },
    );
    const { records, gaps, registry } = await scenario(ex, N);
    expectExactlyOnceInOrder(records, ids(0, N));
    expect(gaps).toEqual([]);
    expect(ex.connections).toBe(2);
    expect((await metricValues(registry, 'tickmesh_ingest_duplicates_total'))[0]?.value).toBe(50);
  });

  it('disconnect with a gap and a REST server: backfilled by time from the last trade seen, in order, reported', async () => {
    // Answers of 100 rows: 15 pages, and page ends that fall between trades of one millisecond.
    const ex = await exchange(
      (n) => (n === 1 ? { send: range(0, 800), after: 'drop' } : { send: range(2200, N), after: 'silent' }),
      100,
    );
    const { records, gaps } = await scenario(ex, N);
    expectExactlyOnceInOrder(records, ids(0, N));
    expect(gaps).toEqual<GapEvent[]>([
      {
        venue: 'kraken',
        symbol: 'BTC/USD',
        market: 'BTC-USD',
        fromId: trades[800]?.tradeId as string,
        toId: trades[2199]?.tradeId as string,
        missing: 1400,
        backfilled: 1400,
        unrecovered: 0,
        unrecoveredRanges: [],
        detectedAt: expect.any(Number) as unknown as number,
        backfill: 'complete',
      },
    ]);
    // The first page from a millisecond before trade 799's time, each next one from the previous
    // answer's `last` cursor, until trade 2199 was seen.
    const sinces = ex.restRequests.map((r) => BigInt(new URLSearchParams(r.split('?')[1]).get('since') ?? ''));
    expect(ex.restRequests[0]).toBe(
      `/0/public/Trades?pair=BTCUSD&since=${BigInt((trades[799] as Trade).eventTime - 1) * 1_000_000n}&count=1000`,
    );
    expect(sinces.length).toBeGreaterThan(14);
    // The tape has page ends inside a millisecond: a cursor in ms would have lost trades there.
    // (The server's cursor of the k-th trade of a millisecond is k * 100 ns into it.)
    const inside = sinces.slice(1).filter((ns) => {
      const ms = Number(ns / 1_000_000n);
      const k = Number(ns % 1_000_000n) / 100;
      return trades.filter((t) => t.eventTime === ms).length > k + 1;
    });
    expect(inside.length).toBeGreaterThan(0);
  });

  it('disconnect with a gap and no reachable REST server: the gap is recorded, never skipped silently', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: range(0, 1000), after: 'drop' } : { send: range(1400, N), after: 'silent' },
    );
    const { records, gaps } = await scenario(ex, N - 400, 'http://127.0.0.1:9');
    expectExactlyOnceInOrder(records, [...ids(0, 1000), ...ids(1400, N)]);
    expect(gaps).toMatchObject([
      {
        fromId: trades[1000]?.tradeId,
        toId: trades[1399]?.tradeId,
        missing: 400,
        backfilled: 0,
        unrecovered: 400,
        backfill: 'failed',
      },
    ]);
  });
});
