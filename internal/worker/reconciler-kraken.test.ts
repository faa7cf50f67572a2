import { describe, expect, it } from 'vitest';
import { inWindows, krakenRecordedKlines, krakenRecordedTrades } from '../../test/support/kraken-rest-recording.js';
import { reconcilingDatabase, replayMarket, type verificationOf } from '../../test/support/reconciler-run.js';
import type { Trade } from '../market/trade.js';
import type { KlineRecord } from '../verify/kline-record.js';

/**
 * The reconciler host beside the market actors on Kraken's own recorded trades and 1m OHLC of
 * XBT/USDT (test/fixtures/kraken-xbtusdt-rest-2025-11-10, SOURCE.md): 17:26 to 17:31 UTC of
 * 2025-11-10, four traded minutes, two whose VWAP Kraken truncates where rounding would differ
 * (17:30, 17:31), and an empty minute (17:29, flat at the previous close, VWAP printed 0.0).
 * internal/verify/kraken-convention.test.ts judges all 409 whole minutes of the recording.
 */
const MIN = 60_000;
const FIRST = Date.UTC(2025, 10, 10, 17, 26);
const MINUTES = Array.from({ length: 6 }, (_, i) => FIRST + i * MIN);
const END = FIRST + MINUTES.length * MIN;

const db = reconcilingDatabase('kraken');

type Verification = Awaited<ReturnType<typeof verificationOf>>;

async function replay(trades: readonly Trade[], klines: readonly KlineRecord[]) {
  const { running, status } = await replayMarket(db, trades, klines, END + 30_000);
  return { running, status: async (openTime: number) => (await status(openTime)) as Verification };
}

async function recorded() {
  const { trades } = await krakenRecordedTrades();
  const { klines } = await krakenRecordedKlines(FIRST, END);
  const window = inWindows(trades, FIRST, END);
  const market = (window[0] as Trade).market;
  const records: KlineRecord[] = MINUTES.map((openTime) => ({
    v: 1,
    exchange: 'kraken',
    symbol: 'BTC/USDT',
    market,
    interval: '1m',
    // A committed REST row (at or before `last`) is final.
    final: true,
    receivedAt: END + 60_000,
    kline: klines.get(openTime) as NonNullable<ReturnType<typeof klines.get>>,
  }));
  return { trades: window, records };
}

describe('Kraken XBT/USDT through the reconciler host (recorded REST trades and OHLC)', () => {
  it('verifies every minute, the empty one and the truncated VWAPs included', async () => {
    const { trades, records } = await recorded();
    expect(trades).toHaveLength(27);
    expect(records.map((r) => [r.kline.trades, r.kline.vwap])).toEqual([
      [13, '105413.7'],
      [2, '105413.6'],
      [4, '105460.3'],
      [0, undefined],
      [2, '105380.7'],
      [6, '105484.2'],
    ]);
    const { running, status } = await replay(trades, records);
    try {
      for (const m of MINUTES) {
        await expect.poll(async () => (await status(m))?.status, { timeout: 30_000 }).toBe('verified');
      }
    } finally {
      await running.stop();
    }
  }, 120_000);

  it('names the fields of a removed trade with both values', async () => {
    const { trades, records } = await recorded();
    // 17:28: 4 trades; the third (0.00052981 at 105485.1) is the minute's high.
    const removed = inWindows(trades, FIRST + 2 * MIN)[2] as Trade;
    expect(removed).toMatchObject({ tradeId: '10218231', price: '105485.10000' });
    const { running, status } = await replay(
      trades.filter((t) => t !== removed),
      records,
    );
    try {
      await expect.poll(async () => (await status(FIRST + 2 * MIN))?.status, { timeout: 30_000 }).toBe('mismatch');
      const v = await status(FIRST + 2 * MIN);
      expect(v?.differences).toEqual([
        { field: 'high', ours: '105485', theirs: '105485.1' },
        { field: 'volume', ours: '0.00096053', theirs: '0.00149034' },
        { field: 'trades', ours: '3', theirs: '4' },
        { field: 'vwap', ours: expect.any(String), theirs: '105460.3' },
      ]);
      // The other minutes are untouched.
      await expect.poll(async () => (await status(FIRST + 4 * MIN))?.status, { timeout: 30_000 }).toBe('verified');
    } finally {
      await running.stop();
    }
  }, 120_000);
});
