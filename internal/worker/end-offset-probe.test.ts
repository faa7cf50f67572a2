import { describe, expect, it, vi } from 'vitest';
import { createMemoryLog } from '../log/memory-log.js';
import { silentLogger } from '../observe/logger.js';
import { createEndOffsetProbe } from './end-offset-probe.js';

describe('EndOffsetProbe', () => {
  it('hands the topic end offsets to the worker every round, and goes on through a failing read', async () => {
    const log = createMemoryLog();
    const admin = log.admin();
    await admin.ensureTopic('t', 2);
    const enc = new TextEncoder();
    const seen: Array<ReadonlyMap<number, bigint>> = [];
    let failNext = false;
    const probe = createEndOffsetProbe({
      admin: {
        endOffsets: async (topic) => {
          if (failNext) {
            failNext = false;
            throw new Error('broker unreachable');
          }
          return admin.endOffsets(topic);
        },
      },
      topic: 't',
      worker: { observeEndOffsets: (_at, ends) => seen.push(new Map(ends)) },
      intervalMs: 5,
      clock: Date.now,
      logger: silentLogger(),
    });
    const stop = new AbortController();
    probe.start(stop.signal);
    await vi.waitFor(() =>
      expect(seen.at(-1)).toEqual(
        new Map([
          [0, 0n],
          [1, 0n],
        ]),
      ),
    );
    failNext = true;
    await log.producer().send('t', [{ key: 'k', value: enc.encode('x') }]);
    await vi.waitFor(() => expect([...(seen.at(-1)?.values() ?? [])].sort()).toEqual([0n, 1n]));
    expect(failNext).toBe(false);
    stop.abort();
    await probe.close();
    const rounds = seen.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(seen.length).toBe(rounds);
  });
});
