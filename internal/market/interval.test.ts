import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INTERVALS,
  intervalMs,
  isFixedLength,
  nests,
  windowAfter,
  windowEnd,
  windowStart,
  windowsBetween,
} from './interval.js';

const utc = (s: string): number => Date.parse(s);
const DAY = 86_400_000;

describe('calendar month (1M)', () => {
  it('opens on the first of the month at 00:00 UTC and closes the instant before the next month', () => {
    const leap = utc('2024-02-29T23:59:59.999Z');
    expect(windowStart('1M', leap)).toBe(utc('2024-02-01T00:00:00Z'));
    expect(windowEnd('1M', utc('2024-02-01T00:00:00Z')) - 1).toBe(leap);
    expect(windowEnd('1M', utc('2023-02-01T00:00:00Z')) - utc('2023-02-01T00:00:00Z')).toBe(28 * DAY);
    expect(windowEnd('1M', utc('2024-02-01T00:00:00Z')) - utc('2024-02-01T00:00:00Z')).toBe(29 * DAY);
    expect(windowEnd('1M', utc('1900-01-01T00:00:00Z'))).toBe(utc('1900-02-01T00:00:00Z'));
    // Month and year boundaries: the first instant of a month is in it, the last of the year in December.
    expect(windowStart('1M', utc('2024-03-01T00:00:00Z'))).toBe(utc('2024-03-01T00:00:00Z'));
    expect(windowStart('1M', utc('2023-12-31T23:59:59.999Z'))).toBe(utc('2023-12-01T00:00:00Z'));
    expect(windowEnd('1M', utc('2023-12-01T00:00:00Z'))).toBe(utc('2024-01-01T00:00:00Z'));
    // 2100 is not a leap year, 2000 is.
    expect(windowEnd('1M', utc('2100-02-01T00:00:00Z')) - utc('2100-02-01T00:00:00Z')).toBe(28 * DAY);
    expect(windowEnd('1M', utc('2000-02-01T00:00:00Z')) - utc('2000-02-01T00:00:00Z')).toBe(29 * DAY);
    // Before the epoch too.
    expect(windowStart('1M', -1)).toBe(utc('1969-12-01T00:00:00Z'));
  });

  it('counts and steps in months across years', () => {
    const jan = utc('2023-11-01T00:00:00Z');
    expect(windowAfter('1M', jan, 3)).toBe(utc('2024-02-01T00:00:00Z'));
    expect(windowAfter('1M', jan, -11)).toBe(utc('2022-12-01T00:00:00Z'));
    expect(windowsBetween('1M', jan, utc('2024-02-01T00:00:00Z'))).toBe(3);
    expect(windowsBetween('1M', jan, utc('2024-02-01T00:00:00.001Z'))).toBe(4);
    expect(windowsBetween('1M', jan, jan)).toBe(0);
    expect(() => intervalMs('1M')).toThrow(/no fixed length/);
  });
});

describe('3d', () => {
  it('runs in threes of days from 1970-01-02, through month and year ends', () => {
    expect(intervalMs('3d')).toBe(3 * DAY);
    // 2024-01-01 is day 19723 since the epoch, 1 modulo 3: a 3d window opens on it.
    expect(windowStart('3d', utc('2024-01-01T12:00:00Z'))).toBe(utc('2024-01-01T00:00:00Z'));
    expect(windowStart('3d', utc('2023-12-31T23:59:59.999Z'))).toBe(utc('2023-12-29T00:00:00Z'));
    expect(windowEnd('3d', utc('2024-01-01T00:00:00Z'))).toBe(utc('2024-01-04T00:00:00Z'));
    // 2024-02-27 (day 19780) opens the window that holds the leap day and crosses the month end.
    expect(windowStart('3d', utc('2024-02-29T12:00:00Z'))).toBe(utc('2024-02-27T00:00:00Z'));
    expect(windowEnd('3d', utc('2024-02-27T00:00:00Z'))).toBe(utc('2024-03-01T00:00:00Z'));
    // Around the origin: 1970-01-02 opens one, the epoch lies in the one before.
    expect(windowStart('3d', utc('1970-01-04T23:59:59.999Z'))).toBe(DAY);
    expect(windowStart('3d', 0)).toBe(-2 * DAY);
  });
});

describe('which intervals nest', () => {
  it('every interval that divides the day nests in 1M; weeks and 3d do not', () => {
    for (const fine of ['1s', '1m', '1h', '8h', '12h', '1d'] as const) expect(nests(fine, '1M')).toBe(true);
    expect(nests('1w', '1M')).toBe(false);
    expect(nests('3d', '1M')).toBe(false);
    expect(nests('3d', '1w')).toBe(false);
    expect(nests('1d', '3d')).toBe(true);
    expect(nests('1d', '1w')).toBe(true);
    expect(nests('1M', '1M')).toBe(false);
  });
});

describe('window functions, every interval (property)', () => {
  it('a time lies in its window; windows tile the line; counting and stepping agree', () => {
    const time = fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2150, 0, 1) });
    fc.assert(
      fc.property(fc.constantFrom(...INTERVALS), time, fc.integer({ min: -30, max: 30 }), (interval, t, n) => {
        const s = windowStart(interval, t);
        const e = windowEnd(interval, s);
        expect(s <= t && t < e).toBe(true);
        expect(windowStart(interval, s)).toBe(s);
        expect(windowStart(interval, e)).toBe(e);
        expect(windowStart(interval, e - 1)).toBe(s);
        if (isFixedLength(interval)) expect(e - s).toBe(intervalMs(interval));
        else expect([28, 29, 30, 31]).toContain((e - s) / DAY);
        const m = windowAfter(interval, s, n);
        expect(windowStart(interval, m)).toBe(m);
        expect(windowsBetween(interval, Math.min(s, m), Math.max(s, m))).toBe(Math.abs(n));
        expect(windowAfter(interval, s, 1)).toBe(e);
        // Every interval finer than the day nests in 1M: a month is whole days.
        if (interval === '1M') expect(new Date(s).getUTCDate()).toBe(1);
      }),
      { numRuns: 2_000 },
    );
  });
});
