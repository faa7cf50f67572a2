import { describe, expect, it } from 'vitest';
import { TickmeshError, UnavailableError } from './errors.js';
import { backoffDelay, type RetryPolicy, retry } from './retry.js';
import * as policies from './retry-policies.js';

const fast = { initialDelayMs: 1, maxDelayMs: 2, random: () => 0.5 };

describe('retry', () => {
  it('retries retriable errors until success', async () => {
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new UnavailableError('down');
        return 'ok';
      },
      { ...fast, maxAttempts: 5 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('never retries a non-retriable error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new TickmeshError('TM_BUG', 'bug');
        },
        { ...fast, maxAttempts: 5 },
      ),
    ).rejects.toThrow('bug');
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts with the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new UnavailableError(`down ${calls}`);
        },
        { ...fast, maxAttempts: 3 },
      ),
    ).rejects.toThrow('down 3');
  });
});

describe('retry: the backoff', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 6 };

  it('doubles the cap per failed attempt up to the maximum', () => {
    const caps = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay({ ...policy, jitter: 'none' }, n));
    expect(caps).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('draws full jitter in [0, cap] and equal jitter in [cap/2, cap]', () => {
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(200);
    expect(backoffDelay({ ...policy, jitter: 'equal' }, 3, () => 0)).toBe(200);
    expect(backoffDelay({ ...policy, jitter: 'equal' }, 3, () => 1)).toBe(400);
  });

  it('waits the policy delays between attempts, and at least what the error asked for', async () => {
    const delays: number[] = [];
    await retry(
      async (attempt) => {
        if (attempt < 4) throw new UnavailableError('down');
      },
      {
        ...policy,
        initialDelayMs: 1,
        jitter: 'none',
        minDelayOf: (err) => ((err as Error).message === 'down' && delays.length === 2 ? 5 : undefined),
        onRetry: (_err, _attempt, delayMs) => delays.push(delayMs),
      },
    );
    expect(delays).toEqual([1, 2, 5]);
  });

  it('starts the backoff again after an attempt that called reset (a healthy session)', async () => {
    const seen: Array<[number, number]> = [];
    await retry(
      async (_attempt, reset) => {
        if (seen.length === 3) return;
        if (seen.length === 1) reset();
        throw new UnavailableError('lost');
      },
      { ...fast, jitter: 'none', maxAttempts: 10, onRetry: (_err, attempt, delayMs) => seen.push([attempt, delayMs]) },
    );
    // The second attempt got going before it failed: the third waits the first delay again.
    expect(seen).toEqual([
      [1, 1],
      [1, 1],
      [2, 2],
    ]);
  });

  it('stops waiting when the signal aborts, with the signal reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const started = Date.now();
    const running = retry(
      async () => {
        throw new UnavailableError('down');
      },
      { initialDelayMs: 60_000, maxDelayMs: 60_000, maxAttempts: 3, jitter: 'none', signal: controller.signal },
    );
    setTimeout(() => controller.abort(reason), 10);
    await expect(running).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('retry policies', () => {
  it('are frozen, with a first delay no larger than the cap', () => {
    for (const [name, p] of Object.entries(policies)) {
      expect(p.initialDelayMs, name).toBeGreaterThan(0);
      expect(p.maxDelayMs, name).toBeGreaterThanOrEqual(p.initialDelayMs);
      expect(Object.isFrozen(p), name).toBe(true);
    }
    expect(policies.VENUE_REQUEST_RETRY.maxAttempts).toBe(6);
  });

  it('keep the delays the hand-written loops had', () => {
    const caps = (p: RetryPolicy, n: number) =>
      Array.from({ length: n }, (_, i) => backoffDelay({ ...p, jitter: 'none' }, i + 1));
    // kafka-producer: min(5000, 250 * 2^attempt) from attempt 0.
    expect(caps(policies.PRODUCE_RETRY, 7)).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
    // placement-follower's claim and release announcement, and its re-watch after a second.
    expect(caps(policies.CLAIM_RETRY, 6)).toEqual([100, 200, 400, 800, 1_600, 2_000]);
    expect(caps(policies.ANNOUNCE_RETRY, 5)).toEqual([100, 200, 400, 800, 1_000]);
    expect(caps(policies.REWATCH, 3)).toEqual([1_000, 1_000, 1_000]);
    // membership: equal jitter over 500 ms doubling to 30 s.
    expect(backoffDelay(policies.WATCH_RESTART, 1, () => 0)).toBe(250);
    expect(backoffDelay(policies.WATCH_RESTART, 10, () => 1)).toBe(30_000);
  });
});
