// The interval switch: the intervals the API serves (/api/v1/info), so a new one needs no page change.

import { $, el } from './dom.js';
import { state } from './state.js';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * The candle of `interval` after the one opening at `ms` (UTC): a calendar month for `M` (28 to
 * 31 days, as Binance's 1M), a fixed length for the other units.
 */
export function nextOpen(ms, interval) {
  const m = /^(\d+)([smhdwM])$/.exec(interval);
  if (!m) return ms + 60_000;
  const n = Number(m[1]);
  if (m[2] !== 'M') return ms + n * UNIT_MS[m[2]];
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1);
}

/** The longest an interval's candle lasts, in ms (a calendar month counts 31 days). */
export function intervalMs(interval) {
  const m = /^(\d+)([smhdwM])$/.exec(interval);
  if (!m) return 60_000;
  return m[2] === 'M' ? Number(m[1]) * 31 * UNIT_MS.d : Number(m[1]) * UNIT_MS[m[2]];
}

/** Fills the interval control; `onChange(interval)` runs when the user picks another. */
export function initIntervals(onChange) {
  const select = $('interval');
  select.replaceChildren(...state.intervals.map((i) => el('option', { value: i, text: i })));
  select.value = state.interval;
  select.addEventListener('change', () => onChange(select.value));
}
