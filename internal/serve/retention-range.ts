import type { Interval } from '../market/interval.js';
import type { RetentionPolicy } from '../sink/store.js';

/**
 * Why a query range reaches before what the workers keep, or undefined when it does not. A range
 * with no start (the newest rows) is never refused; one that starts before `now - retention` is,
 * since its rows are deleted (or about to be) and a partial answer would look like no data.
 * `what` names the rows for the message (`1m candles`, `alerts`).
 */
export function beyondRetention(
  policy: RetentionPolicy,
  key: Interval | 'alerts',
  range: { readonly from?: number; readonly to?: number },
  now: number,
  what: string,
): string | undefined {
  const keep = policy[key];
  if (keep === undefined) return undefined;
  const horizon = now - keep;
  const kept = `${what} are kept ${formatDuration(keep)}, from ${new Date(horizon).toISOString()} (${horizon}) on`;
  if (range.from !== undefined && range.from < horizon) return `${kept}: from must not be earlier`;
  if (range.from === undefined && range.to !== undefined && range.to <= horizon) return `${kept}: to must be later`;
  return undefined;
}

function formatDuration(ms: number): string {
  for (const [unit, len] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms % len === 0) return `${ms / len}${unit}`;
  }
  return `${ms} ms`;
}
