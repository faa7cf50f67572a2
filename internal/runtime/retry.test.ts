import { describe, expect, it } from 'vitest';
import { TickmeshError, UnavailableError } from './errors.js';
import { retry } from './retry.js';

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
