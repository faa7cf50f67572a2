import { RateLimitedError } from '../../runtime/errors.js';
import { retry } from '../../runtime/retry.js';
import type { RequestBudget } from '../../verify/request-budget.js';
import { getText } from '../rest.js';
import type { SourceHttp } from './source.js';

export interface SourceHttpDeps {
  readonly budget: RequestBudget;
  readonly fetch?: typeof fetch;
  readonly signal: AbortSignal;
  /** Every request that went out, with its HTTP status (0: no answer). */
  readonly onRequest: (status: number) => void;
  /** Before each wait of a retry. */
  readonly onRetry: (err: unknown, attempt: number, delayMs: number) => void;
  /** Attempts per GET before its error reaches the poll. Default 4. */
  readonly maxAttempts?: number;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly timeoutMs?: number;
  /** Largest answer read; a larger one fails the poll (TM_TOO_LARGE, a `too-large` reject). Default 8 MiB. */
  readonly maxBytes?: number;
}

/**
 * A source's HTTP: every attempt (retries included) takes a turn of the request budget first, so
 * the source never sends more than the budget allows whatever fails; a 429 waits at least its
 * Retry-After (runtime/retry.ts minDelayOf) before the next attempt.
 */
export function createSourceHttp(deps: SourceHttpDeps): SourceHttp {
  const fetchFn = deps.fetch ?? fetch;
  const counted: typeof fetch = async (input, init) => {
    try {
      const res = await fetchFn(input, init);
      deps.onRequest(res.status);
      return res;
    } catch (err) {
      deps.onRequest(0);
      throw err;
    }
  };
  return {
    get(url, accept, headers) {
      return retry(
        async () => {
          await deps.budget.take(deps.signal);
          const { text } = await getText(url, accept, {
            fetch: counted,
            signal: deps.signal,
            maxBytes: deps.maxBytes ?? 8 * 1024 * 1024,
            headers,
            timeoutMs: deps.timeoutMs,
          });
          return text;
        },
        {
          initialDelayMs: deps.initialDelayMs ?? 1_000,
          maxDelayMs: deps.maxDelayMs ?? 60_000,
          maxAttempts: deps.maxAttempts ?? 4,
          signal: deps.signal,
          onRetry: deps.onRetry,
          minDelayOf: (err) => (err instanceof RateLimitedError ? err.retryAfterMs : undefined),
        },
      );
    },
  };
}
