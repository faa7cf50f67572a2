import { isRetriable } from './errors.js';

export interface RetryOptions {
  /** First delay; doubles each attempt up to maxDelayMs, with full jitter. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Give up after this many attempts (Infinity: until the signal aborts). */
  readonly maxAttempts: number;
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

/** Runs `fn` until it succeeds, a non-retriable error is thrown, attempts run out or the signal aborts. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const shouldRetry = options.retriable ?? isRetriable;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (!shouldRetry(err) || attempt >= options.maxAttempts) throw err;
      const cap = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1));
      const delay = Math.max(Math.round(random() * cap), options.minDelayOf?.(err) ?? 0);
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
