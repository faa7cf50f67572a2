import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batch, candle } from '../../test/contracts/store-contract.js';
import { mismatchOf, seedVerification } from '../../test/harness/verification-seed.js';
import { createPgliteStore, type PgliteStore } from './pglite-store.js';

const T = Date.UTC(2024, 0, 15, 10, 0);
const M = 60_000;

let database: PGlite;
let store: PgliteStore;
const sql = (text: string, params: unknown[]) => database.query(text, params);

beforeAll(async () => {
  database = await PGlite.create();
  store = await createPgliteStore({ database });
  await store.migrate();
  const candles = [0, 1, 2, 3, 4].map((i) =>
    candle({ openTime: T + i * M, firstTradeId: String(i), lastTradeId: String(i) }),
  );
  await store.commit(batch({ candles: [...candles, candle({ symbol: 'ETHUSDT', market: 'ETH-USDT' })] }));
  await seedVerification(sql, candles[0]!, {
    status: 'verified',
    revision: 0,
    conventionDifferences: [],
    checkedAt: T,
  });
  await seedVerification(sql, candles[1]!, mismatchOf(0, T + M));
  await seedVerification(sql, candles[2]!, mismatchOf(0, T + 2 * M));
  await seedVerification(sql, candles[3]!, { status: 'unverifiable', revision: 0, reason: 'no kline', checkedAt: T });
  // A judgement of an older revision: the row's revision 1 is not judged yet.
  await store.commit(batch({ nextOffset: 200n, candles: [{ ...candles[4]!, revision: 1 }] }));
  await seedVerification(sql, candles[4]!, mismatchOf(0, T));
}, 120_000);
afterAll(async () => {
  await store?.close();
  await database?.close();
});

describe('verification reads', () => {
  it('reads a judgement only while it is of the row revision', async () => {
    const rows = await store.candles({
      exchange: 'binance',
      symbol: 'BTCUSDT',
      interval: '1m',
      from: 0,
      to: T + 10 * M,
    });
    expect(rows.map((c) => c.verification?.status ?? null)).toEqual([
      'verified',
      'mismatch',
      'mismatch',
      'unverifiable',
      null,
    ]);
    expect(rows[1]?.verification?.differences).toEqual([{ field: 'volume', ours: '1.23456789', theirs: '1.33456789' }]);
  });

  it('counts candles by market, interval and status, unjudged ones as pending', async () => {
    const counts = await store.verificationCounts({});
    expect(counts).toEqual([
      { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', status: 'mismatch', count: 2 },
      { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', status: 'pending', count: 1 },
      { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', status: 'unverifiable', count: 1 },
      { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', status: 'verified', count: 1 },
      { exchange: 'binance', symbol: 'ETHUSDT', interval: '1m', status: 'pending', count: 1 },
    ]);
    const ranged = await store.verificationCounts({ symbol: 'BTCUSDT', from: T + M, to: T + 3 * M });
    expect(ranged.map((c) => [c.status, c.count])).toEqual([['mismatch', 2]]);
  });

  it('pages the mismatches forward from a cursor, and reads the newest without one', async () => {
    const first = await store.mismatches({ exchange: 'binance', from: 0, limit: 1 });
    expect(first.map((c) => c.openTime)).toEqual([T + M]);
    const { openTime, exchange, symbol, interval } = first[0]!;
    const second = await store.mismatches({ limit: 5, after: { openTime, exchange, symbol, interval } });
    expect(second.map((c) => c.openTime)).toEqual([T + 2 * M]);
    const newest = await store.mismatches({ limit: 1, newest: true });
    expect(newest.map((c) => c.openTime)).toEqual([T + 2 * M]);
    expect(await store.mismatches({ symbol: 'ETHUSDT', limit: 5 })).toEqual([]);
  });
});
