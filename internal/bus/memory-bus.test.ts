import { describe, expect, it } from 'vitest';
import { defineBusContract } from '../../test/contracts/bus-contract.js';
import { createMemoryBus } from './memory-bus.js';

let n = 0;
defineBusContract(
  'memory',
  async () => {
    const bus = createMemoryBus();
    return { bus, fresh: (prefix) => `${prefix}-${++n}`, close: () => bus.close() };
  },
  { arriveMs: 2_000, quietMs: 20 },
);

describe('MemoryBus', () => {
  it('refuses a stream whose subjects overlap another stream', async () => {
    const bus = createMemoryBus();
    await bus.ensureStream({ name: 'A', subjects: ['x.candle.>'] });
    await expect(bus.ensureStream({ name: 'B', subjects: ['x.*.1m'] })).rejects.toThrow(/overlap/);
    await expect(bus.publishDurable('y.z', new Uint8Array(), { msgId: '1' })).rejects.toThrow(/no stream/);
  });

  it('forgets message ids after the duplicate window and ages messages out', async () => {
    let now = 1_000_000;
    const bus = createMemoryBus({ now: () => now });
    await bus.ensureStream({ name: 'S', subjects: ['s.>'], duplicateWindowMs: 1_000, maxAgeMs: 5_000 });
    expect((await bus.publishDurable('s.a', new Uint8Array(), { msgId: 'm' })).duplicate).toBe(false);
    now += 500;
    expect((await bus.publishDurable('s.a', new Uint8Array(), { msgId: 'm' })).duplicate).toBe(true);
    now += 1_000;
    const again = await bus.publishDurable('s.a', new Uint8Array(), { msgId: 'm' });
    expect(again).toEqual({ stream: 'S', seq: 2, duplicate: false });
    now += 10_000;
    await bus.publishDurable('s.b', new Uint8Array(), { msgId: 'n' });
    const c = new AbortController();
    const seqs: number[] = [];
    for await (const m of bus.readStream('S', { signal: c.signal })) {
      seqs.push(m.seq);
      c.abort();
    }
    expect(seqs).toEqual([3]);
  });

  it('close ends subscriptions, watches and stream readers', async () => {
    const bus = createMemoryBus();
    await bus.ensureStream({ name: 'S', subjects: ['s.>'] });
    const kv = await bus.kv('b');
    const sub = bus.subscribe('x.>');
    const never = new AbortController();
    const loops = [
      (async () => {
        for await (const _ of sub);
      })(),
      (async () => {
        for await (const _ of kv.watch({ signal: never.signal }));
      })(),
      (async () => {
        for await (const _ of bus.readStream('S', { signal: never.signal }));
      })(),
    ];
    await new Promise((r) => setTimeout(r, 10));
    await bus.close();
    await expect(Promise.all(loops)).resolves.toBeDefined();
    expect(() => bus.publish('x.y', new Uint8Array())).toThrow(/closed/);
  });
});
