// The interval switch: the intervals the API serves (/api/v1/info), so a new one needs no page change.

import { $, el } from './dom.js';
import { state } from './state.js';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 31 * 86_400_000 };

/** The longest an interval's candle lasts, in ms (a calendar month counts 31 days). */
export function intervalMs(interval) {
  const m = /^(\d+)([smhdwM])$/.exec(interval);
  return m ? Number(m[1]) * UNIT_MS[m[2]] : 60_000;
}

/** Fills the interval control; `onChange(interval)` runs when the user picks another. */
export function initIntervals(onChange) {
  const select = $('interval');
  select.replaceChildren(...state.intervals.map((i) => el('option', { value: i, text: i })));
  select.value = state.interval;
  select.addEventListener('change', () => onChange(select.value));
}
