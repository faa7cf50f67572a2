import { describe, expect, it } from 'vitest';

/**
 * The dashboard's candle times (dashboard/format.js and intervals.js, browser modules): a 1M
 * candle is a calendar month (28 to 31 days), named by its month; 3d and 1w by their day.
 */
interface Format {
  fmtCandleTime(ms: number, interval: string): string;
}
interface Intervals {
  nextOpen(ms: number, interval: string): number;
}
const format = (await import(new URL('./dashboard/format.js', import.meta.url).href)) as Format;
const intervals = (await import(new URL('./dashboard/intervals.js', import.meta.url).href)) as Intervals;
const DAY = 86_400_000;

describe('candle times on the dashboard', () => {
  it('names a candle by its interval, in UTC', () => {
    const t = Date.UTC(2026, 10, 1);
    expect(format.fmtCandleTime(t, '1M')).toBe('2026-11');
    expect(format.fmtCandleTime(t, '3d')).toBe('2026-11-01');
    expect(format.fmtCandleTime(t, '1w')).toBe('2026-11-01');
    expect(format.fmtCandleTime(t + 14 * 60_000, '15m')).toBe('2026-11-01 00:14Z');
    expect(format.fmtCandleTime(t + 7_000, '1s')).toBe('2026-11-01 00:00:07Z');
  });

  it('ends a 1M candle at the next calendar month, whatever its length', () => {
    expect(intervals.nextOpen(Date.UTC(2026, 0, 1), '1M')).toBe(Date.UTC(2026, 1, 1));
    expect(intervals.nextOpen(Date.UTC(2026, 1, 1), '1M') - Date.UTC(2026, 1, 1)).toBe(28 * DAY);
    expect(intervals.nextOpen(Date.UTC(2028, 1, 1), '1M') - Date.UTC(2028, 1, 1)).toBe(29 * DAY);
    expect(intervals.nextOpen(Date.UTC(2026, 3, 1), '1M') - Date.UTC(2026, 3, 1)).toBe(30 * DAY);
    expect(intervals.nextOpen(Date.UTC(2026, 11, 1), '1M')).toBe(Date.UTC(2027, 0, 1));
    expect(intervals.nextOpen(Date.UTC(2026, 10, 28), '3d')).toBe(Date.UTC(2026, 11, 1));
  });
});
