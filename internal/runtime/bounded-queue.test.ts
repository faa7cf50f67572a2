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
