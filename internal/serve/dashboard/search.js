// Market search: the table shows the markets whose name or exchange contains what is typed;
// Enter shows the first of them in the chart.

import { select } from './chart.js';
import { $ } from './dom.js';
import { schedule } from './schedule.js';
import { state } from './state.js';

/** Whether market row `r` matches the search. */
export function matches(r) {
  return state.search === '' || `${r.market} ${r.exchange} ${r.symbol}`.toLowerCase().includes(state.search);
}

export function initSearch() {
  const input = $('search');
  input.addEventListener('input', () => {
    state.search = input.value.trim().toLowerCase();
    schedule();
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    const first = [...state.markets.values()].filter(matches).sort((a, b) => a.market.localeCompare(b.market))[0];
    if (first) select(first.key);
  });
}
