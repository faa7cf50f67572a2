import { setTimeout as sleep } from 'node:timers/promises';
import { isRetriable } from './errors.js';

/**
 * How a delay is drawn below the exponential cap: `full` anywhere in [0, cap] (callers that may
 * retry in step spread out), `equal` in [cap/2, cap] (spread out, yet never hammering a server
 * that just failed), `none` exactly the cap.
 */
export type Jitter = 'full' | 'equal' | 'none';

/** A named backoff (retry-policies.ts): what differs between one retry and the next. */
export interface RetryPolicy {
  /** First delay cap; doubles each failed attempt up to maxDelayMs. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Give up after this many consecutive failed attempts (Infinity: until the signal aborts). */
  readonly maxAttempts: number;
  /** Default `full`. */
  readonly jitter?: Jitter;
}

export interface RetryOptions extends RetryPolicy {
  readonly signal?: AbortSignal;
  /** Called before each wait, for logging and metrics. */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Which errors to retry; by default those whose `retriable` is true. Never retries programmer errors. */
  readonly retriable?: (err: unknown) => boolean;
  readonly random?: () => number;
  /**
   * The least wait the failed call asked for (a server's Retry-After), or undefined. The delay is
   * then at least that, whatever the backoff drew.
   */
  readonly minDelayOf?: (err: unknown) => number | undefined;
}

/**
 * Runs `fn` until it succeeds, a non-retriable error is thrown, attempts run out or the signal
 * aborts (then it throws the signal's reason). `attempt` counts from 1. A long-lived attempt (a
 * session that connected and got going) calls `reset`: when it fails later, the backoff starts
 * again from its first delay, as for a first failure.
 */
export async function retry<T>(
  fn: (attempt: number, reset: () => void) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const shouldRetry = options.retriable ?? isRetriable;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    let healthy = false;
    try {
      return await fn(attempt, () => {
        healthy = true;
      });
    } catch (err) {
      if (healthy) attempt = 1;
      if (!shouldRetry(err) || attempt >= options.maxAttempts) throw err;
      const delay = Math.max(backoffDelay(options, attempt, random), options.minDelayOf?.(err) ?? 0);
      options.onRetry?.(err, attempt, delay);
      // An abort ends the wait; the loop's first line then throws the signal's reason.
      await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
}

/** The wait after the `attempt`-th consecutive failure (from 1) under `policy`. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  switch (policy.jitter ?? 'full') {
    case 'full':
      return Math.round(random() * cap);
    case 'equal':
      return Math.round(cap / 2 + (random() * cap) / 2);
    case 'none':
      return cap;
  }
}
