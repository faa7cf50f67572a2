import { describe, expect, it } from 'vitest';
import { BoundedQueue, QueueClosedError } from './bounded-queue.js';

describe('BoundedQueue', () => {
  it('refuses to grow past its capacity and resumes a waiting push when drained', async () => {
    const q = new BoundedQueue<number>(2);
    expect(q.tryPush(1)).toBe(true);
    expect(q.tryPush(2)).toBe(true);
    expect(q.tryPush(3)).toBe(false);
    let pushed = false;
    const p = q.push(3).then(() => {
      pushed = true;
    });
    await Promise.resolve();
    expect(pushed).toBe(false);
    expect(q.tryShift()).toBe(1);
    await p;
    expect(pushed).toBe(true);
    expect(q.size).toBe(2);
  });

  it('iterates in order and ends after close once drained', async () => {
    const q = new BoundedQueue<number>(4);
    q.tryPush(1);
    q.tryPush(2);
    q.close();
    const seen: number[] = [];
    for await (const x of q) seen.push(x);
    expect(seen).toEqual([1, 2]);
  });

  it('hands an item straight to a waiting consumer', async () => {
    const q = new BoundedQueue<string>(1);
    const it = q[Symbol.asyncIterator]();
    const next = it.next();
    q.tryPush('a');
    expect(await next).toEqual({ value: 'a', done: false });
  });

  it('rejects waiting pushes on close and on abort', async () => {
    const q = new BoundedQueue<number>(1);
    q.tryPush(1);
    const ac = new AbortController();
    const aborted = q.push(2, ac.signal);
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    const closed = q.push(3);
    q.close();
    await expect(closed).rejects.toBeInstanceOf(QueueClosedError);
  });
});

describe('BoundedQueue overflow rules', () => {
  it('drop-oldest: never refuses, drops and counts the oldest, still hands straight to a waiting consumer', async () => {
    const q = new BoundedQueue<number>(3, { overflow: 'drop-oldest' });
    for (let i = 1; i <= 5; i++) expect(q.tryPush(i)).toBe(true);
    expect(q.dropped).toBe(2);
    expect([q.tryShift(), q.tryShift(), q.tryShift(), q.tryShift()]).toEqual([3, 4, 5, undefined]);
    const next = q.shift();
    q.tryPush(6);
    expect(await next).toBe(6);
    expect(q.dropped).toBe(2);
  });

  it('pause: accepts past the bounds, tells the producer to stop at either bound and to resume once emptied', async () => {
    const events: boolean[] = [];
    const q = new BoundedQueue<string>(10, {
      overflow: 'pause',
      weigh: (s) => s.length,
      maxWeight: 8,
      onPause: (p) => events.push(p),
    });
    q.tryPush('abc');
    q.tryPush('defg');
    expect(q.paused).toBe(false);
    q.tryPush('hi');
    expect([q.paused, q.weight, events]).toEqual([true, 9, [true]]);
    // A paused source still delivers what it had buffered.
    expect(q.tryPush('jk')).toBe(true);
    expect(events).toEqual([true]);
    expect(await q.takeAll()).toEqual(['abc', 'defg', 'hi', 'jk']);
    expect([q.paused, q.weight, q.size, events]).toEqual([false, 0, 0, [true, false]]);
    const full = new BoundedQueue<number>(2, { overflow: 'pause', onPause: (p) => events.push(p) });
    full.tryPush(1);
    full.tryPush(2);
    expect(full.paused).toBe(true);
    expect(full.tryShift()).toBe(1);
    expect(full.paused).toBe(true);
    expect(full.tryShift()).toBe(2);
    expect(full.paused).toBe(false);
  });

  it('takeAll waits for the first item and takes what came with it; undefined once closed and empty', async () => {
    const q = new BoundedQueue<number>(10, { overflow: 'pause' });
    const batch = q.takeAll();
    q.tryPush(1);
    q.tryPush(2);
    expect(await batch).toEqual([1, 2]);
    const end = q.takeAll();
    q.close();
    expect(await end).toBeUndefined();
  });

  it('shift ends on abort and on close; clear drops what is queued', async () => {
    const q = new BoundedQueue<number>(4);
    const ac = new AbortController();
    const aborted = q.shift(ac.signal);
    ac.abort();
    expect(await aborted).toBeUndefined();
    // The aborted consumer no longer takes items.
    q.tryPush(1);
    expect(q.size).toBe(1);
    q.tryPush(2);
    q.close();
    q.clear();
    expect(q.size).toBe(0);
    expect(await q.shift()).toBeUndefined();
  });

  it('keeps order across the growth of its ring', () => {
    const q = new BoundedQueue<number>(1_000);
    const out: number[] = [];
    for (let i = 0; i < 300; i++) {
      q.tryPush(i);
      if (i % 3 === 0) out.push(q.tryShift() as number);
    }
    while (q.size > 0) out.push(q.tryShift() as number);
    expect(out).toEqual([...Array(300).keys()]);
  });

  it('removes its abort listener when a waiting push goes through (a long-lived signal collects none)', async () => {
    const q = new BoundedQueue<number>(1);
    const ac = new AbortController();
    let listeners = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    const remove = ac.signal.removeEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    ac.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    q.tryPush(0);
    for (let i = 1; i <= 50; i++) {
      const p = q.push(i, ac.signal);
      q.tryShift();
      await p;
    }
    expect(listeners).toBe(0);
  });
});
