import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Spaces requests to at most `perSecond` a second (evenly: one every 1000 / perSecond ms), so a
 * long verification stays inside a venue's public rate limit. One budget per venue and process.
 */
export interface RequestBudget {
  /** Resolves when the next request may go; rejects with the signal's reason when it aborts. */
  take(signal: AbortSignal): Promise<void>;
}

export function createRequestBudget(perSecond: number, now: () => number = Date.now): RequestBudget {
  if (!(perSecond > 0)) throw new RangeError('perSecond must be positive');
  const spacing = 1000 / perSecond;
  let next = 0;
  return {
    async take(signal) {
      const t = now();
      const at = Math.max(t, next);
      next = at + spacing;
      if (at > t) await sleep(at - t, undefined, { signal }).catch(() => undefined);
      signal.throwIfAborted();
    },
  };
}
