import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from './deadline-queue.js';

describe('deadline queue', () => {
  it('takes exactly the keys due at or before the watermark, each once, at its earliest due time', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('schedule' as const),
              key: fc.integer({ min: 0, max: 20 }),
              at: fc.integer({ min: -5, max: 100 }),
            }),
            fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 20 }) }),
            fc.record({ op: fc.constant('take' as const), at: fc.integer({ min: -5, max: 100 }) }),
          ),
          { maxLength: 300 },
        ),
        (ops) => {
          const q = new DeadlineQueue();
          const model = new Map<string, number>();
          for (const o of ops) {
            if (o.op === 'schedule') {
              const k = String(o.key);
              q.schedule(k, o.at);
              model.set(k, Math.min(model.get(k) ?? Number.POSITIVE_INFINITY, o.at));
            } else if (o.op === 'delete') {
              q.delete(String(o.key));
              model.delete(String(o.key));
            } else {
              const got: string[] = [];
              q.takeDue(o.at, got);
              const want = [...model].filter(([, d]) => d <= o.at);
              for (const [k] of want) model.delete(k);
              expect([...got].sort()).toEqual(want.map(([k]) => k).sort());
              const dues = want.map(([, d]) => d).sort((a, b) => a - b);
              expect(got.map((k) => want.find(([w]) => w === k)?.[1])).toEqual(dues);
            }
            expect(q.size).toBe(model.size);
          }
        },
      ),
    );
  });

  it('never schedules a key due at +Infinity, and keeps its heap bounded under rescheduling', () => {
    const q = new DeadlineQueue();
    q.schedule('a', Number.POSITIVE_INFINITY);
    expect(q.size).toBe(0);
    for (let i = 100_000; i > 0; i--) q.schedule('a', i);
    const got: string[] = [];
    q.takeDue(1, got);
    expect(got).toEqual(['a']);
    expect((q as unknown as { heap: unknown[] }).heap.length).toBeLessThan(2_000);
  });
});
