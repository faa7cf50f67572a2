import { describe, expect, it } from 'vitest';
import { InputError } from '../runtime/errors.js';
import { decodePartitionState, encodePartitionState } from './partition-state.js';

describe('partition state', () => {
  it('round-trips and encodes equal states to equal bytes whatever the insertion order', () => {
    const a = new Map([
      ['binance:ETHUSDT', Uint8Array.of(1, 2, 3)],
      ['binance:BTCUSDT', Uint8Array.of()],
    ]);
    const b = new Map([...a].reverse());
    const ea = encodePartitionState({ maxEventTime: 1_582_329_600_000, actors: a });
    expect(ea).toEqual(encodePartitionState({ maxEventTime: 1_582_329_600_000, actors: b }));
    const back = decodePartitionState(ea);
    expect(back.maxEventTime).toBe(1_582_329_600_000);
    expect([...back.actors.entries()]).toEqual([...b.entries()].sort(([x], [y]) => (x < y ? -1 : 1)));
  });

  it('keeps -Infinity for a partition that has seen no trade', () => {
    const e = encodePartitionState({ maxEventTime: Number.NEGATIVE_INFINITY, actors: new Map() });
    expect(decodePartitionState(e).maxEventTime).toBe(Number.NEGATIVE_INFINITY);
  });

  it('refuses truncated or trailing bytes with a named error', () => {
    const e = encodePartitionState({ maxEventTime: 0, actors: new Map([['k', Uint8Array.of(9, 9)]]) });
    expect(() => decodePartitionState(e.subarray(0, e.length - 1))).toThrow(InputError);
    const longer = new Uint8Array(e.length + 1);
    longer.set(e);
    expect(() => decodePartitionState(longer)).toThrow(/trailing/);
  });

  it('keeps the swept watermark and the jumps of a partition that evicts (version 2)', () => {
    const actors = new Map([['k', Uint8Array.of(1)]]);
    const e = encodePartitionState({
      maxEventTime: 5,
      actors,
      swept: 3,
      jumps: [
        [1, 2],
        [2.5, 3],
      ],
    });
    expect(e[0]).toBe(2);
    const back = decodePartitionState(e);
    expect(back.swept).toBe(3);
    expect(back.jumps).toEqual([
      [1, 2],
      [2.5, 3],
    ]);
    expect(decodePartitionState(encodePartitionState({ maxEventTime: 5, actors })).swept).toBe(
      Number.NEGATIVE_INFINITY,
    );
    expect(() => decodePartitionState(e.subarray(0, e.length - 8))).toThrow(InputError);
  });

  it('keeps the owed watermarks of fresh actors and says the snapshots are rows (version 3)', () => {
    const fresh = new Map([
      ['b:Y', 7],
      ['a:X', Number.NEGATIVE_INFINITY],
    ]);
    const e = encodePartitionState({
      maxEventTime: 9,
      actors: new Map(),
      swept: 8,
      jumps: [[1, 2]],
      fresh,
      actorsInRows: true,
    });
    expect(e[0]).toBe(3);
    const back = decodePartitionState(e);
    expect(back).toMatchObject({ maxEventTime: 9, swept: 8, jumps: [[1, 2]], actorsInRows: true });
    expect([...(back.fresh ?? [])]).toEqual([
      ['a:X', Number.NEGATIVE_INFINITY],
      ['b:Y', 7],
    ]);
    expect(back.actors.size).toBe(0);
    expect(encodePartitionState({ ...back, fresh: new Map([...fresh].reverse()) })).toEqual(e);
    expect(() => decodePartitionState(e.subarray(0, e.length - 3))).toThrow(InputError);
  });
});
