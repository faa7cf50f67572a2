import { describe, expect, it } from 'vitest';
import type { Trade } from '../market/trade.js';
import { fileKey, parseFileKey, resumePoints } from './layout.js';
import { type ClosedWindow, PartitionWindow } from './window.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1, 10);

function trade(symbol: string, id: number, eventTime: number, price = '100.5'): Trade {
  return {
    exchange: 'binance',
    symbol,
    market: `${symbol.slice(0, 3)}-USDT`,
    tradeId: String(id),
    price,
    size: '0.001',
    side: 'buy',
    eventTime,
    receiveTime: eventTime + 1,
  };
}

/** Records 0..n-1 of one partition: two markets, event times across an hour boundary. */
function records(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    offset: BigInt(i),
    timestamp: T0 + i * 1_000,
    trades: [trade(i % 2 ? 'BTCUSDT' : 'ETHUSDT', i, T0 - 5_000 + i * 1_000)],
  }));
}

const noReject = () => {
  throw new Error('unexpected reject');
};

function run(w: PartitionWindow, recs: ReturnType<typeof records>): ClosedWindow[] {
  const out: ClosedWindow[] = [];
  for (const r of recs) out.push(...w.add(r, noReject));
  return out;
}

describe('the trades archive window', () => {
  it('names files by partition and the window offset range, under Hive partitions of event time', () => {
    const w = new PartitionWindow(2, { rollMs: HOUR, maxTrades: 1_000 });
    run(w, records(10));
    const closed = w.closeNow() as ClosedWindow;
    expect(closed.range).toEqual({ partition: 2, from: 0n, to: 9n });
    expect(closed.files.map((f) => f.key)).toEqual([
      'exchange=binance/symbol=BTCUSDT/date=2024-01-01/hour=09/part-2-00000000000000000000-00000000000000000009.parquet',
      'exchange=binance/symbol=BTCUSDT/date=2024-01-01/hour=10/part-2-00000000000000000000-00000000000000000009.parquet',
      'exchange=binance/symbol=ETHUSDT/date=2024-01-01/hour=09/part-2-00000000000000000000-00000000000000000009.parquet',
      'exchange=binance/symbol=ETHUSDT/date=2024-01-01/hour=10/part-2-00000000000000000000-00000000000000000009.parquet',
    ]);
    expect(closed.files.reduce((n, f) => n + f.rows.length, 0)).toBe(10);
  });

  it('percent-encodes partition values and reads a key back', () => {
    const key = fileKey({
      exchange: 'kraken',
      symbol: 'BTC/USD',
      date: '2024-01-01',
      hour: 3,
      partition: 1,
      from: 5n,
      to: 7n,
    });
    expect(key.startsWith('exchange=kraken/symbol=BTC%2FUSD/date=2024-01-01/hour=03/')).toBe(true);
    expect(parseFileKey(key)).toEqual({ partition: 1, from: 5n, to: 7n });
    expect(parseFileKey('exchange=x/README.md')).toBeUndefined();
  });

  it('rolls at the first record of a later log period, and at maxTrades', () => {
    const w = new PartitionWindow(0, { rollMs: 4_000, maxTrades: 3 });
    const closed = run(w, records(10)).map((c) => [c.range.from, c.range.to]);
    expect(closed).toEqual([
      [0n, 2n],
      [3n, 3n],
      [4n, 6n],
      [7n, 7n],
    ]);
  });

  it('after a crash part-way through writing a window, rewrites exactly its missing files', () => {
    const recs = records(30);
    const original = run(new PartitionWindow(0, { rollMs: 10_000, maxTrades: 1_000 }), recs);
    const [, second] = original as [ClosedWindow, ClosedWindow];
    // The crash came after the second window's first file: only that one exists.
    const existing = [...original[0]!.files.map((f) => f.key), second.files[0]!.key];
    const resume = resumePoints(existing).get(0);
    expect(resume?.last).toEqual(second.range);
    // A different roll period after the restart must not move the recovered window's end.
    const w = new PartitionWindow(0, { rollMs: 3_000, maxTrades: 2 }, resume);
    expect(w.startOffset()).toBe(second.range.from);
    const redone = run(w, recs.slice(Number(second.range.from), Number(second.range.to) + 1));
    expect(redone).toHaveLength(1);
    expect(redone[0]?.files).toEqual(second.files.slice(1));
    expect(w.closeNow()).toBeUndefined();
  });

  it('a recovered window not read to its end is dropped on drain, never written short', () => {
    const w = new PartitionWindow(
      0,
      { rollMs: HOUR, maxTrades: 1_000 },
      {
        last: { partition: 0, from: 0n, to: 9n },
        written: new Set(),
      },
    );
    expect(run(w, records(5))).toEqual([]);
    expect(w.closeNow()).toBeUndefined();
  });

  it('counts trades that DECIMAL(38, 18) cannot hold as rejected, and archives the rest', () => {
    const w = new PartitionWindow(0, { rollMs: HOUR, maxTrades: 1_000 });
    const rejected: string[] = [];
    w.add(
      {
        offset: 0n,
        timestamp: T0,
        trades: [trade('BTCUSDT', 1, T0, '1.0000000000000000001'), trade('BTCUSDT', 2, T0)],
      },
      (t, reason) => rejected.push(`${t.tradeId}: ${reason}`),
    );
    expect(rejected).toEqual(['1: price does not fit DECIMAL(38, 18)']);
    expect(w.closeNow()?.files[0]?.rows.map((r) => [r.tradeId, r.index])).toEqual([['2', 1]]);
  });
});
