import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateReader, StateWriter } from './state-codec.js';
import { TradeIdSet } from './trade-id-set.js';

describe('TradeIdSet', () => {
  it('answers like a Set for numeric ids in any order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 400 }), (ids) => {
        const set = new TradeIdSet();
        const ref = new Set<number>();
        for (const id of ids) {
          expect(set.addNumber(id)).toBe(!ref.has(id));
          ref.add(id);
        }
        for (let i = 0; i <= 301; i++) expect(set.hasNumber(i)).toBe(ref.has(i));
      }),
    );
  });

  it('restartFrom(n) forgets every id from n up, keeps the ones below and adds n (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 300 }),
        fc.integer({ min: 0, max: 300 }),
        (ids, n) => {
          const set = new TradeIdSet();
          for (const id of ids) set.addNumber(id);
          set.restartFrom(n);
          for (let i = 0; i <= 301; i++) expect(set.hasNumber(i)).toBe(i === n || (i < n && ids.includes(i)));
          expect(set.addNumber(n + 1)).toBe(true);
        },
      ),
    );
  });

  it('keeps consecutive ids as one range', () => {
    const set = new TradeIdSet();
    for (let i = 1_000; i < 100_000; i++) set.addNumber(i);
    set.addNumber(5);
    expect(set.rangeCount).toBe(2);
    set.addNumber(999);
    expect(set.rangeCount).toBe(2);
  });

  it('forgets whole ranges below the floor and strings older than the floor time', () => {
    const set = new TradeIdSet();
    for (const i of [1, 2, 3, 10, 11, 20]) set.addNumber(i);
    set.addString('a', 100);
    set.addString('b', 200);
    set.prune(11, 150);
    expect(set.hasNumber(3)).toBe(false);
    expect(set.hasNumber(10)).toBe(true);
    expect(set.addString('a', 300)).toBe(true);
    expect(set.addString('b', 300)).toBe(false);
    const w = new StateWriter();
    set.writeState(w);
    const r = new StateReader(w.finish());
    const copy = TradeIdSet.readState(r);
    expect(r.done).toBe(true);
    expect(copy.hasNumber(20)).toBe(true);
    expect(copy.addString('b', 1)).toBe(false);
  });
});
