import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compareDecimal } from '../../internal/actor/decimal.js';
import type { GapEvent } from '../../internal/ingest/events.js';
import { type LocalOkx, type OkxMessage, okxMessages, startLocalOkx } from '../../internal/ingest/testing/local-okx.js';
import { contractsToBase } from '../../internal/ingest/venues/okx-contracts.js';
import type { Trade } from '../../internal/market/trade.js';
import { loadRealTrades } from '../support/real-trades.js';
import { ingestScenario, type LoggedTrade, metricValues } from './ingest-support.js';

// The real BTCUSDT trades played as OKX's BTC-USDT by a local server that speaks OKX's v5
// WebSocket and REST protocols: trades aggregated per taker order and price as OKX's `trades`
// channel does (tradeId the last of `count` ids), backfill paged backwards by trade id. What
// lands in the real Kafka topics is what is asserted.
const N = 3_000;
const KEY = 'okx:BTC-USDT';
let trades: Trade[] = [];
let messages: OkxMessage[] = [];
const exchanges: LocalOkx[] = [];

beforeAll(async () => {
  trades = (await loadRealTrades())
    .slice(0, N)
    .map((t) => ({ ...t, exchange: 'okx', symbol: 'BTC-USDT', market: 'BTC-USDT' }));
  messages = okxMessages(trades);
});
afterEach(async () => {
  await Promise.all(exchanges.splice(0).map((e) => e.close()));
});

async function exchange(script: Parameters<typeof startLocalOkx>[0]['script']) {
  const ex = await startLocalOkx({ trades, script });
  exchanges.push(ex);
  return ex;
}

function scenario(ex: LocalOkx, expected: number, restUrl = ex.restUrl) {
  return ingestScenario({ venue: 'okx', symbols: ['BTC-USDT'], wsUrl: ex.wsUrl, restUrl }, expected);
}

/** The messages sent live (last trade in `[from, to)`), as the records they become: [last id, count]. */
function live(from: number, to: number): Array<[string, number]> {
  return messages
    .filter((m) => m.last >= from && m.last < to)
    .map((m) => [(trades[m.last] as Trade).tradeId, m.last - m.first + 1]);
}

/** Trades fetched one by one over REST: [id, 1]. */
function single(from: number, to: number): Array<[string, number]> {
  return trades.slice(from, to).map((t) => [t.tradeId, 1]);
}

/** The tape index where the first message whose last trade is at or after `i` begins. */
const startOf = (i: number) => (messages.find((m) => m.last >= i) as OkxMessage).first;

/** One key, one partition, the records in log order, each exchange trade counted exactly once. */
function expectExactlyOnceInOrder(records: LoggedTrade[], expected: Array<[string, number]>) {
  expect(new Set(records.map((r) => r.key))).toEqual(new Set([KEY]));
  expect(new Set(records.map((r) => r.partition)).size).toBe(1);
  const got = records.map((r) => r.trade);
  expect(got.map((t) => [t.tradeId, t.tradeCount ?? 1])).toEqual(expected);
  const byId = new Map(trades.map((t, i) => [t.tradeId, i]));
  for (const t of got) {
    const last = byId.get(t.tradeId) as number;
    const n = t.tradeCount ?? 1;
    const covered = trades.slice(last - n + 1, last + 1);
    expect([t.price, t.side, t.eventTime, t.market]).toEqual([
      covered[0]?.price,
      covered[0]?.side,
      covered[0]?.eventTime,
      'BTC-USDT',
    ]);
    const sum = covered.reduce((a, c) => a + Number(c.size), 0);
    expect(Math.abs(Number(t.size) - sum)).toBeLessThan(1e-9);
    expect(compareDecimal(t.size, '0')).toBe(1);
  }
}

describe('ingest from a local OKX into Kafka', () => {
  it('clean run: every trade once, in order, aggregated per taker order as OKX sends them', async () => {
    const ex = await exchange((n) => (n === 1 ? { send: [[0, N]], after: 'silent' } : undefined));
    const expected = live(0, N);
    // The tape has aggregated messages, or this test would not test them.
    expect(expected.some(([, count]) => count > 1)).toBe(true);
    const { records, gaps, rejects } = await scenario(ex, expected.length);
    expectExactlyOnceInOrder(records, expected);
    expect(gaps).toEqual([]);
    expect(rejects).toEqual([]);
  });

  it('disconnect: what the new connection sends again is dropped as duplicates', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: [[0, 1500]], after: 'drop' } : { send: [[1400, N]], after: 'silent' },
    );
    const expected = live(0, N);
    const { records, gaps, registry } = await scenario(ex, expected.length);
    expectExactlyOnceInOrder(records, expected);
    expect(gaps).toEqual([]);
    expect(ex.connections).toBe(2);
    expect((await metricValues(registry, 'tickmesh_ingest_duplicates_total'))[0]?.value).toBe(live(1400, 1500).length);
  });

  it('disconnect with a gap and a REST server: backfilled backwards by id, in order, reported', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: [[0, 800]], after: 'drop' } : { send: [[2200, N]], after: 'silent' },
    );
    // The gap is what neither connection sent: after the first one's last message, before the
    // second one's first.
    const gapFrom = (messages.filter((m) => m.last < 800).at(-1) as OkxMessage).last + 1;
    const gapTo = startOf(2200);
    const expected = [...live(0, 800), ...single(gapFrom, gapTo), ...live(2200, N)];
    const { records, gaps } = await scenario(ex, expected.length);
    expectExactlyOnceInOrder(records, expected);
    const missing = gapTo - gapFrom;
    expect(gaps).toEqual<GapEvent[]>([
      {
        venue: 'okx',
        symbol: 'BTC-USDT',
        market: 'BTC-USDT',
        fromId: trades[gapFrom]?.tradeId as string,
        toId: trades[gapTo - 1]?.tradeId as string,
        missing,
        backfilled: missing,
        unrecovered: 0,
        unrecoveredRanges: [],
        detectedAt: expect.any(Number) as unknown as number,
        backfill: 'complete',
      },
    ]);
    // Pages of 100 from just after the gap's last id, each next one below the lowest id seen.
    expect(ex.restRequests[0]).toBe(
      `/api/v5/market/history-trades?instId=BTC-USDT&type=1&after=${BigInt(trades[gapTo - 1]?.tradeId as string) + 1n}&limit=100`,
    );
    expect(ex.restRequests).toHaveLength(Math.ceil(missing / 100));
  });

  it('disconnect with a gap and no reachable REST server: the gap is recorded, never skipped silently', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: [[0, 1000]], after: 'drop' } : { send: [[1400, N]], after: 'silent' },
    );
    const gapFrom = (messages.filter((m) => m.last < 1000).at(-1) as OkxMessage).last + 1;
    const gapTo = startOf(1400);
    const expected = [...live(0, 1000), ...live(1400, N)];
    const { records, gaps } = await scenario(ex, expected.length, 'http://127.0.0.1:9');
    expectExactlyOnceInOrder(records, expected);
    expect(gaps).toMatchObject([
      {
        fromId: trades[gapFrom]?.tradeId,
        toId: trades[gapTo - 1]?.tradeId,
        missing: gapTo - gapFrom,
        backfilled: 0,
        unrecovered: gapTo - gapFrom,
        backfill: 'failed',
      },
    ]);
  });

  it('a linear swap: its contract value read from OKX, every trade sized in BTC, backfilled ones too', async () => {
    // The same tape as BTC-USDT-SWAP, whose contracts are worth 0.01 BTC: each `sz` counts
    // contracts (the BTC size × 100), and what lands in Kafka is the BTC size again.
    const swap = trades.slice(0, 600).map((t) => ({
      ...t,
      symbol: 'BTC-USDT-SWAP',
      market: 'BTC-USDT-SWAP',
      size: contractsToBase(t.size, '100') as string,
    }));
    const ex = await startLocalOkx({
      trades: swap,
      instruments: { 'BTC-USDT-SWAP': { ctVal: '0.01', ctValCcy: 'BTC', ctType: 'linear' } },
      script: (n) => (n === 1 ? { send: [[0, 200]], after: 'drop' } : { send: [[400, 600]], after: 'silent' }),
    });
    exchanges.push(ex);
    const swapMessages = okxMessages(swap);
    const sent = (from: number, to: number) => swapMessages.filter((m) => m.last >= from && m.last < to);
    const gapFrom = (sent(0, 200).at(-1) as OkxMessage).last + 1;
    const gapTo = (swapMessages.find((m) => m.last >= 400) as OkxMessage).first;
    const expected: OkxMessage[] = [
      ...sent(0, 200),
      ...Array.from({ length: gapTo - gapFrom }, (_, i) => ({ first: gapFrom + i, last: gapFrom + i })),
      ...sent(400, 600),
    ];
    const { records, gaps, rejects } = await ingestScenario(
      { venue: 'okx', symbols: ['BTC-USDT-SWAP'], wsUrl: ex.wsUrl, restUrl: ex.restUrl },
      expected.length,
    );
    expect(ex.restRequests[0]).toBe('/api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP');
    expect(records.map((r) => r.trade.tradeId)).toEqual(expected.map((m) => (swap[m.last] as Trade).tradeId));
    records.forEach((r, i) => {
      const m = expected[i] as OkxMessage;
      const btc = trades
        .slice(m.first, m.last + 1)
        .reduce((sum, t) => sum + BigInt(Math.round(Number(t.size) * 1e8)), 0n);
      expect([r.key, r.trade.market, compareDecimal(r.trade.size, (Number(btc) / 1e8).toFixed(8))]).toEqual([
        'okx:BTC-USDT-SWAP',
        'BTC-USDT-SWAP',
        0,
      ]);
    });
    expect(gaps).toMatchObject([{ missing: gapTo - gapFrom, backfilled: gapTo - gapFrom, backfill: 'complete' }]);
    expect(rejects).toEqual([]);
  });
});
