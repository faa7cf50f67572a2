import { describe, expect, it } from 'vitest';
import { decodeHeartbeat, encodeHeartbeat, type Heartbeat } from './heartbeat-message.js';
import { LoadBoard, placementLoad } from './load-board.js';

const beat = (member: string, partitions: Heartbeat['partitions']): Heartbeat => ({ member, partitions, time: 0 });

describe('heartbeat message', () => {
  it('round-trips, and drops malformed partition entries and fields one by one', () => {
    const b = beat('w-0', [{ partition: 3, epoch: 7, rate: 12.5, lag: 4, paused: true }]);
    expect(decodeHeartbeat(encodeHeartbeat(b))).toEqual(b);
    const text = JSON.stringify({
      member: 'w-1',
      partitions: [
        { partition: 1, epoch: 2, rate: -1, lag: 'x' },
        { partition: -1, epoch: 2 },
        { partition: 2 },
        'junk',
      ],
    });
    expect(decodeHeartbeat(new TextEncoder().encode(text))).toEqual({
      member: 'w-1',
      partitions: [{ partition: 1, epoch: 2 }],
      time: 0,
    });
    // The beat of an older worker (no rate fields) still counts.
    expect(
      decodeHeartbeat(new TextEncoder().encode('{"member":"w-2","partitions":[{"partition":0,"epoch":1}]}')),
    ).toEqual({ member: 'w-2', partitions: [{ partition: 0, epoch: 1 }], time: 0 });
    expect(decodeHeartbeat(new TextEncoder().encode('{"partitions":[]}'))).toBeUndefined();
    expect(decodeHeartbeat(new TextEncoder().encode('not json'))).toBeUndefined();
  });
});

describe('LoadBoard', () => {
  it('keeps the rate of the higher epoch during a handoff, and a moved partition keeps its rate', () => {
    const board = new LoadBoard();
    board.record(beat('a', [{ partition: 0, epoch: 1, rate: 100, lag: 5 }]), 0);
    // The new owner (epoch 2) has not measured yet: the rate stays, the lag and owner are its own.
    board.record(beat('b', [{ partition: 0, epoch: 2, lag: 50 }]), 100);
    // The old owner's last beat arrives late: ignored.
    board.record(beat('a', [{ partition: 0, epoch: 1, rate: 1, lag: 0 }]), 200);
    expect(board.rates(200)).toEqual(new Map([[0, 100]]));
    expect(board.reports(200)).toEqual([{ partition: 0, member: 'b', rate: 100, lag: 50, paused: false }]);
    board.record(beat('b', [{ partition: 0, epoch: 2, rate: 80, lag: 0, paused: true }]), 1_000);
    expect(board.reports(1_000)).toEqual([{ partition: 0, member: 'b', rate: 80, lag: 0, paused: true }]);
  });

  it('forgets a lag when its owner goes silent, and a rate after rateMaxAgeMs', () => {
    const board = new LoadBoard({ lagMaxAgeMs: 1_000, rateMaxAgeMs: 10_000 });
    board.record(beat('a', [{ partition: 4, epoch: 1, rate: 10, lag: 9, paused: true }]), 0);
    expect(board.reports(5_000)).toEqual([{ partition: 4, member: 'a', rate: 10, paused: false }]);
    expect(board.rates(10_000)).toEqual(new Map([[4, 10]]));
    expect(board.rates(10_001)).toEqual(new Map());
    expect(board.reports(10_001)).toEqual([]);
  });
});

describe('placementLoad', () => {
  it('gives the rates to the placement only above the floor', () => {
    const rates = new Map([
      [0, 30],
      [1, 60],
    ]);
    expect(placementLoad(rates, 100)).toBeUndefined();
    expect(placementLoad(rates, 90)).toEqual(rates);
    expect(placementLoad(new Map(), 0)).toBeUndefined();
    expect(placementLoad(new Map([[0, 0]]), 0)).toBeUndefined();
  });
});
