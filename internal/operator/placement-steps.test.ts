import { describe, expect, it } from 'vitest';
import { emptyPlacement, type Placement } from './placement.js';
import {
  assignEpochs,
  collectOrphans,
  countTargets,
  fillTargets,
  loadScale,
  refineLoad,
  takeSurplus,
} from './placement-steps.js';

const unit = (n: number): number[] => new Array<number>(n).fill(1);
const refine = { tolerance: 0, minGain: 0, budget: 10, swaps: true, pinned: new Set<number>() };

describe('placement steps', () => {
  it('collectOrphans: partitions of gone members and unplaced ones are orphans; the rest stay with their loads', () => {
    const { ledger, orphans } = collectOrphans(['a', 'b'], [1, 2, 3, 4, 5], ['a', 'gone', null, 'b', 'a']);
    expect(orphans).toEqual([1, 2]);
    expect([...ledger.reason]).toEqual([
      [1, 'orphan'],
      [2, 'orphan'],
    ]);
    expect([...ledger.partitionsOf('a')]).toEqual([0, 4]);
    expect(ledger.loadOf('a')).toBe(6);
    expect(ledger.loadOf('b')).toBe(4);
  });

  it('countTargets: members above the floor keep one extra, a new member takes the rest', () => {
    const owners = ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'b'];
    const { ledger } = collectOrphans(['a', 'b', 'c'], unit(10), owners);
    expect(Object.fromEntries(countTargets(ledger, 10))).toEqual({ a: 4, b: 3, c: 3 });
  });

  it('takeSurplus: gives at most the budget, each time the partition that leaves the donor closest to the mean', () => {
    const weights = [1, 4, 2, 3, 10, 10];
    const { ledger } = collectOrphans(['a', 'b', 'c'], weights, ['a', 'a', 'a', 'a', 'b', 'b']);
    const target = countTargets(ledger, 6);
    expect(Object.fromEntries(target)).toEqual({ a: 2, b: 2, c: 2 });
    const scale = loadScale(weights, 3);
    // a (load 10, mean 10) gives 1 first: 10 - 1 is the closest to the mean.
    expect(takeSurplus(ledger, target, scale, 1)).toEqual({ given: [0], left: 1 });
    expect(ledger.count('a')).toBe(3);
    expect(ledger.reason.get(0)).toBe('balance');
  });

  it('fillTargets: heaviest first, each to the lightest member below its target', () => {
    const weights = [5, 1, 3, 2];
    const { ledger, orphans } = collectOrphans(['a', 'b'], weights, [null, null, null, null]);
    const target = countTargets(ledger, 4);
    fillTargets(ledger, orphans, target, loadScale(weights, 2));
    // 5 to a, 3 and 2 to b (then full), 1 to a.
    expect(ledger.owner).toEqual(['a', 'a', 'b', 'b']);
    expect([ledger.loadOf('a'), ledger.loadOf('b')]).toEqual([6, 5]);
  });

  it('refineLoad: swaps a heavy partition for a light one, and stops unsettled when the budget runs out', () => {
    const weights = [9, 1, 4, 4];
    const owners = ['a', 'a', 'b', 'b'];
    const first = collectOrphans(['a', 'b'], weights, owners).ledger;
    expect(refineLoad(first, loadScale(weights, 2), refine)).toBe(true);
    // 9 + 1 against 4 + 4, counts equal (no plain move): the only swap, 9 for a 4, gives 5 against 13.
    expect(first.owner).toEqual(owners);

    const w2 = [6, 5, 1, 1];
    const second = collectOrphans(['a', 'b'], w2, ['a', 'a', 'b', 'b']).ledger;
    expect(refineLoad(second, loadScale(w2, 2), refine)).toBe(true);
    // 6 + 5 against 1 + 1: swapping 6 or 5 for a 1 both give a peak of 7; the lower partition numbers win.
    expect(second.owner).toEqual(['b', 'a', 'a', 'b']);
    expect([...second.reason]).toEqual([
      [0, 'load'],
      [2, 'load'],
    ]);
    const third = collectOrphans(['a', 'b'], w2, ['a', 'a', 'b', 'b']).ledger;
    expect(refineLoad(third, loadScale(w2, 2), { ...refine, budget: 1 })).toBe(false);
    expect(third.owner).toEqual(['a', 'a', 'b', 'b']);
  });

  it('assignEpochs: moved partitions take the next epochs in partition order, the others keep theirs', () => {
    const current: Placement = {
      version: 4,
      epoch: 7,
      members: ['a', 'b'],
      partitions: [
        { owner: 'a', epoch: 3, previousOwner: null },
        { owner: 'b', epoch: 7, previousOwner: 'a' },
        { owner: 'b', epoch: 5, previousOwner: null },
      ],
    };
    const { ledger } = collectOrphans(['a', 'b'], unit(3), ['a', 'a', 'a']);
    ledger.reason.set(1, 'balance');
    ledger.reason.set(2, 'balance');
    const { placement, moves } = assignEpochs(current, current.partitions, ledger, false);
    expect(moves).toEqual([
      { partition: 1, from: 'b', to: 'a', epoch: 8, reason: 'balance' },
      { partition: 2, from: 'b', to: 'a', epoch: 9, reason: 'balance' },
    ]);
    expect(placement.partitions[0]).toBe(current.partitions[0]);
    expect(placement).toMatchObject({ version: 5, epoch: 9 });

    const still = collectOrphans(['a', 'b'], unit(3), ['a', 'b', 'b']).ledger;
    expect(assignEpochs(current, current.partitions, still, false).placement).toMatchObject({ version: 4, epoch: 7 });
    expect(emptyPlacement(0).partitions).toEqual([]);
  });
});
