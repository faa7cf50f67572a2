import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { candle } from '../../test/contracts/store-contract.js';
import { candleIsNewer } from '../sink/cache.js';
import { SeenFilter } from './seen-filter.js';

describe('SeenFilter', () => {
  it('passes a candle only when newer than the last one passed under its key', () => {
    const f = new SeenFilter(100);
    const p1 = candle({ closed: false, trades: 1 });
    expect(f.candle(p1)).toBe(true);
    expect(f.candle(p1)).toBe(false);
    expect(f.candle(candle({ closed: false, trades: 2 }))).toBe(true);
    expect(f.candle(p1)).toBe(false);
    expect(f.candle(candle({ closed: true, trades: 2 }))).toBe(true);
    expect(f.candle(candle({ closed: false, trades: 2 }))).toBe(false);
    expect(f.candle(candle({ closed: true, trades: 3, revision: 1 }))).toBe(true);
    expect(f.candle(candle({ closed: true, trades: 2 }))).toBe(false);
    // Another window, another interval, another market: their own keys.
    expect(f.candle(candle({ openTime: p1.openTime + 60_000 }))).toBe(true);
    expect(f.candle(candle({ interval: '5m' }))).toBe(true);
    expect(f.candle(candle({ symbol: 'ETHUSDT' }))).toBe(true);
  });

  it('passes a closed candle again once judged, and each later judgement of its revision, never a repeat', () => {
    const f = new SeenFilter(100);
    const closed = candle({ closed: true, revision: 1 });
    const judged = (status: 'verified' | 'mismatch', checkedAt: number, revision = 1) => ({
      ...closed,
      verification: { status, revision, conventionDifferences: [], checkedAt },
    });
    expect(f.candle(closed)).toBe(true);
    expect(f.candle(judged('verified', 10))).toBe(true);
    expect(f.candle(judged('verified', 10))).toBe(false);
    expect(f.candle(closed)).toBe(false);
    // A venue's correction judged later passes; an older judgement, or one of another revision, does not.
    expect(f.candle(judged('mismatch', 20))).toBe(true);
    expect(f.candle(judged('verified', 15))).toBe(false);
    expect(f.candle(judged('verified', 30, 0))).toBe(false);
    // A judged candle first (the plain one was missed) passes once; the plain one after it does not.
    const other = candle({ closed: true, symbol: 'ETHUSDT' });
    expect(f.candle({ ...other, verification: judged('verified', 5, 0).verification })).toBe(true);
    expect(f.candle(other)).toBe(false);
    // The next revision passes without a judgement, and clears the way for the judgement of it.
    expect(f.candle(candle({ closed: true, revision: 2 }))).toBe(true);
    expect(
      f.candle({ ...candle({ closed: true, revision: 2 }), verification: judged('verified', 1, 2).verification }),
    ).toBe(true);
  });

  it('whatever order and repeats arrive in, what passes is strictly increasing per key', () => {
    const update = fc.record({
      minute: fc.integer({ min: 0, max: 2 }),
      revision: fc.integer({ min: 0, max: 2 }),
      closed: fc.boolean(),
      trades: fc.integer({ min: 0, max: 5 }),
    });
    fc.assert(
      fc.property(fc.array(update, { maxLength: 60 }), (updates) => {
        const f = new SeenFilter(1_000);
        const last = new Map<number, ReturnType<typeof candle>>();
        for (const u of updates) {
          const c = candle({ openTime: u.minute * 60_000, revision: u.revision, closed: u.closed, trades: u.trades });
          const prev = last.get(u.minute);
          const expected = prev === undefined || candleIsNewer(c, prev);
          expect(f.candle(c)).toBe(expected);
          if (expected) last.set(u.minute, c);
        }
      }),
    );
  });

  it('alerts by id, index values by (asset, time, price)', () => {
    const f = new SeenFilter(100);
    expect(f.alert({ id: 'a' } as never)).toBe(true);
    expect(f.alert({ id: 'a' } as never)).toBe(false);
    expect(f.indexValue({ asset: 'BTC', time: 10, price: 1 })).toBe(true);
    expect(f.indexValue({ asset: 'BTC', time: 10, price: 1 })).toBe(false);
    expect(f.indexValue({ asset: 'BTC', time: 10, price: 2 })).toBe(true);
    expect(f.indexValue({ asset: 'BTC', time: 9, price: 3 })).toBe(false);
    expect(f.indexValue({ asset: 'ETH', time: 9, price: 3 })).toBe(true);
  });

  it('remembers at most `capacity` keys, forgetting the least recently updated', () => {
    const f = new SeenFilter(3);
    const at = (m: number) => candle({ openTime: m * 60_000 });
    for (const m of [0, 1, 2]) expect(f.candle(at(m))).toBe(true);
    expect(f.candle(candle({ openTime: 0, trades: 99 }))).toBe(true); // key 0 is now the most recent
    expect(f.candle(at(3))).toBe(true); // evicts key 1
    expect(f.candle(at(1))).toBe(true);
    expect(f.candle(at(3))).toBe(false);
  });
});
