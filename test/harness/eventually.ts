import { vi } from 'vitest';

class NotYet extends Error {}

/**
 * Polls `read` through `vi.waitFor` until it returns something other than undefined, and returns
 * that; a throw counts as not yet. Fails after `ms` saying what it waited for, with the last error
 * `read` threw as the cause. For a value the test only asserts on, `expect.poll` says more; this is
 * for a value the test goes on with, and for hooks, where `expect.poll` is not allowed.
 */
export async function eventually<T>(
  what: string,
  read: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
  everyMs = 50,
): Promise<T> {
  let failure: unknown;
  try {
    return await vi.waitFor(
      async () => {
        let value: T | undefined;
        try {
          value = await read();
        } catch (err) {
          failure = err;
          throw err;
        }
        if (value === undefined) throw new NotYet(what);
        return value;
      },
      { timeout: ms, interval: everyMs },
    );
  } catch {
    throw new Error(`timed out after ${ms} ms waiting for ${what}${failure ? `: ${String(failure)}` : ''}`, {
      cause: failure,
    });
  }
}
