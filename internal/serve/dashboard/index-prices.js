// The index prices panel: each asset's latest cross-venue index value.

import { $, el } from './dom.js';
import { fmtAge, fmtNumber } from './format.js';
import { schedule } from './schedule.js';
import { state } from './state.js';

/** An index value from the stream; an older one than shown is ignored. */
export function onIndex(v) {
  const prev = state.index.get(v.asset);
  if (prev && prev.value.time > v.time) return;
  state.index.set(v.asset, { value: v, updatedAt: Date.now() });
  schedule('index');
}

export function renderIndex() {
  const body = $('index-body');
  body.replaceChildren();
  const rows = [...state.index.values()].sort((a, b) => a.value.asset.localeCompare(b.value.asset));
  if (rows.length === 0)
    body.append(el('tr', { class: 'empty' }, el('td', { colspan: '4', text: 'no index value yet' })));
  for (const { value, updatedAt } of rows) {
    body.append(
      el(
        'tr',
        {},
        el('td', { class: 'l market', text: value.asset }),
        el('td', { text: fmtNumber(value.price) }),
        el('td', { text: String(value.venues?.length ?? 0) }),
        el('td', { text: fmtAge(updatedAt) }),
      ),
    );
  }
}
