import { z } from 'zod';
import { type Interval, isInterval } from '../market/interval.js';
import type { RetentionPolicy } from '../sink/store.js';

/**
 * The retention flags, shared by `tickmesh worker` (which deletes what expires) and `tickmesh api`
 * (which refuses ranges before it); the chart passes one set of values to both.
 */

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d`, `12h`, `90m`, `45s` in ms; `forever` is Infinity; undefined when it is neither. */
function durationMs(s: string): number | undefined {
  if (s === 'forever') return Number.POSITIVE_INFINITY;
  const m = /^(\d+)([smhd])$/.exec(s);
  return m ? Number(m[1]) * (UNITS[m[2] as string] as number) : undefined;
}

/** The flag text of a retention policy (`1m=30d,...`), without the alerts. */
export function retentionText(policy: RetentionPolicy): string {
  return Object.entries(policy)
    .filter(([k, ms]) => k !== 'alerts' && ms !== undefined)
    .map(([k, ms]) => `${k}=${(ms as number) / 86_400_000}d`)
    .join(',');
}

/** `INTERVAL=DURATION,...` (durations s, m, h, d or forever): ms per interval; one not listed is kept forever. */
export const candleRetentionFlag = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const policy: Partial<Record<Interval, number>> = {};
      for (const item of s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0)) {
        const [interval, keep] = item.split('=');
        const ms = keep === undefined ? undefined : durationMs(keep);
        if (interval === undefined || !isInterval(interval) || ms === undefined) {
          ctx.addIssue({ code: 'custom', message: `expected INTERVAL=DURATION,... (e.g. 1m=30d), not ${item}` });
          return z.NEVER;
        }
        if (ms !== Number.POSITIVE_INFINITY) policy[interval] = ms;
      }
      return policy;
    });

/** A duration (`90d`, `12h`) or `forever` (Infinity). */
export const alertRetentionFlag = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const ms = durationMs(s);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration (e.g. 90d, 12h) or forever' });
        return z.NEVER;
      }
      return ms;
    });

/** The two flags' values as one frozen policy (alerts kept forever have no `alerts`). */
export function retentionPolicy(candles: Partial<Record<Interval, number>>, alerts: number): RetentionPolicy {
  return Object.freeze({ ...candles, ...(Number.isFinite(alerts) ? { alerts } : {}) });
}
