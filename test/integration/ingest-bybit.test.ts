import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bybitLinearId, type LocalBybit, startLocalBybit } from '../../internal/ingest/testing/local-bybit.js';
import type { Trade } from '../../internal/market/trade.js';
import { loadRealTrades } from '../support/real-trades.js';
import { expectTapeInOrder, ingestScenario, type LoggedTrade, metricValues } from './ingest-support.js';

// The real BTCUSDT trades played as Bybit linear's BTCUSDT (UUID-like trade ids, as Bybit's
// linear ids are) by a local server that speaks Bybit's v5 WebSocket and REST protocols. Bybit's
// ids tell no gap, so what a lost connection missed is looked for in recent-trade (the last
// 1,000 trades). What lands in the real Kafka topics is what is asserted.
const N = 3_000;
const KEY = 'bybit-linear:BTCUSDT';
let trades: Trade[] = [];
const exchanges: LocalBybit[] = [];

beforeAll(async () => {
  trades = (await loadRealTrades()).slice(0, N).map((t) => ({
    ...t,
    exchange: 'bybit-linear',
    symbol: 'BTCUSDT',
    market: 'BTC-USDT',
    tradeId: bybitLinearId(t.tradeId),
  }));
});
afterEach(async () => {
  await Promise.all(exchanges.splice(0).map((e) => e.close()));
});

async function exchange(script: Parameters<typeof startLocalBybit>[0]['script']) {
  const ex = await startLocalBybit({ category: 'linear', trades, script });
  exchanges.push(ex);
  return ex;
}

function scenario(ex: LocalBybit, expected: number, restUrl = ex.restUrl) {
  return ingestScenario({ venue: 'bybit-linear', symbols: ['BTCUSDT'], wsUrl: ex.wsUrl, restUrl }, expected);
}

const ids = (from: number, to: number) => trades.slice(from, to).map((t) => t.tradeId);

const expectInOrder = (records: LoggedTrade[], expected: string[]) => expectTapeInOrder(records, KEY, trades, expected);

describe('ingest from a local Bybit (linear) into Kafka', () => {
  it('clean run: every trade once, in order', async () => {
    const ex = await exchange((n) => (n === 1 ? { send: [0, N], after: 'silent' } : undefined));
    const { records, gaps, rejects } = await scenario(ex, N);
    expectInOrder(records, ids(0, N));
    expect(gaps).toEqual([]);
    expect(rejects).toEqual([]);
  });

  it('disconnect with overlap: repeats dropped by id, nothing missed, no gap recorded', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: [0, 1500], after: 'drop' } : { send: [1400, N], after: 'silent' },
    );
    const { records, gaps, registry } = await scenario(ex, N);
    expectInOrder(records, ids(0, N));
    expect(gaps).toEqual([]);
    expect((await metricValues(registry, 'tickmesh_ingest_duplicates_total'))[0]?.value).toBe(100);
    // The processor looked once, after the reconnect.
    expect(ex.restRequests).toEqual(['/v5/market/recent-trade?category=linear&symbol=BTCUSDT&limit=1000']);
  });

  it('disconnect with a gap inside the recent window: the missed trades recovered before the next, reported', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: [0, 800], after: 'drop' } : { send: [1000, N], after: 'silent' },
    );
    const { records, gaps } = await scenario(ex, N);
    expectInOrder(records, ids(0, N));
    expect(gaps).toMatchObject([
      {
        venue: 'bybit-linear',
        symbol: 'BTCUSDT',
        fromId: trades[800]?.tradeId,
        toId: trades[999]?.tradeId,
        missing: 200,
        backfilled: 200,
        backfill: 'complete',
        window: { fromTime: trades[799]?.eventTime, toTime: trades[1000]?.eventTime },
      },
    ]);
  });

  it('disconnect longer than the recent window: what is there is recovered, the gap recorded as partial', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: [0, 800], after: 'drop' } : { send: [2200, N], after: 'silent' },
    );
    // Bybit keeps 1,000 recent trades: at least 1400 - 1000 of the 1400 missed are gone.
    const { records, gaps } = await scenario(ex, N - 1400 + 800);
    const got = records.map((r) => r.trade.tradeId);
    const resumedAt = trades.findIndex((t) => t.tradeId === got[800]);
    expect(resumedAt).toBeGreaterThan(800 + 400 - 1);
    expectInOrder(records, [...ids(0, 800), ...ids(resumedAt, N)]);
    expect(gaps).toMatchObject([
      {
        fromId: trades[resumedAt]?.tradeId,
        toId: trades[2199]?.tradeId,
        backfilled: 2200 - resumedAt,
        backfill: 'partial',
        window: { fromTime: trades[799]?.eventTime, toTime: trades[2200]?.eventTime },
      },
    ]);
  });

  it('disconnect with no reachable REST server: the lost window is recorded as failed, never skipped silently', async () => {
    const ex = await exchange((n) =>
      n === 1 ? { send: [0, 1000], after: 'drop' } : { send: [1400, N], after: 'silent' },
    );
    const { records, gaps } = await scenario(ex, N - 400, 'http://127.0.0.1:9');
    expectInOrder(records, [...ids(0, 1000), ...ids(1400, N)]);
    expect(gaps).toMatchObject([{ fromId: '', toId: '', backfilled: 0, backfill: 'failed' }]);
  });
});
