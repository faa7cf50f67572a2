// The markets table: one row per market with its open candle; rows are rebuilt only when the set
// of markets changes, cells only when their market changed.

import { select } from './chart.js';
import { $, el } from './dom.js';
import { changePct, fmtAge, fmtDecimal, fmtPrice } from './format.js';
import { matches } from './search.js';
import { STALE_MS, state } from './state.js';
import { shareCell } from './verification.js';

const PRICES = ['open', 'high', 'low', 'close', 'change', 'volume', 'trades'];

let tableShape;
const rowNodes = new Map();

function rebuild(rows) {
  const body = $('markets-body');
  body.replaceChildren();
  rowNodes.clear();
  if (rows.length === 0) {
    const text = state.markets.size > 0 ? `no market matches “${state.search}”` : 'waiting for the first trades…';
    body.append(el('tr', { class: 'empty' }, el('td', { colspan: '11', text })));
  }
  for (const r of rows) {
    const tr = el('tr');
    tr.addEventListener('click', () => select(r.key));
    const cells = {};
    const add = (name, cls) => {
      const td = el('td', { class: cls });
      cells[name] = td;
      tr.append(td);
    };
    add('market', 'l market');
    add('exchange', 'l');
    for (const n of [...PRICES, 'verified', 'updated']) add(n, 'num');
    rowNodes.set(r.key, { tr, cells });
    body.append(tr);
    r.dirty = true;
  }
  $('markets-count').textContent = rows.length > 0 ? `${rows.length} · the open ${state.interval} candle, live` : '';
  $('change-head').textContent = `${state.interval} change`;
}

function fill(cells, r) {
  cells.market.textContent = r.market;
  cells.exchange.replaceChildren(
    r.exchange === 'sim' ? el('span', { class: 'tag-sim', text: 'sim' }) : document.createTextNode(r.exchange),
  );
  shareCell(cells.verified, r.key);
  const c = r.candle;
  if (!c) {
    for (const n of PRICES) cells[n].textContent = '—';
    return;
  }
  cells.open.textContent = fmtPrice(c.open);
  cells.high.textContent = fmtPrice(c.high);
  cells.low.textContent = fmtPrice(c.low);
  cells.close.textContent = fmtPrice(c.close);
  const pct = changePct(c);
  cells.change.textContent = pct === undefined ? '—' : `${pct >= 0 ? '+' : ''}${pct.toFixed(2)}%`;
  cells.change.className = `num ${pct > 0 ? 'up' : pct < 0 ? 'down' : 'muted'}`;
  cells.volume.textContent = fmtDecimal(c.volume, 4);
  cells.trades.textContent = String(c.trades);
  if (r.flash) {
    // Restart the animation: remove, force a reflow, add.
    cells.close.classList.remove('flash-up', 'flash-down');
    void cells.close.offsetWidth;
    cells.close.classList.add(r.flash);
    r.flash = undefined;
  }
}

export function renderTable() {
  const rows = [...state.markets.values()]
    .filter(matches)
    .sort((a, b) => a.market.localeCompare(b.market) || a.exchange.localeCompare(b.exchange));
  const shape = `${state.interval}|${rows.map((r) => r.key).join('|')}`;
  if (shape !== tableShape) {
    tableShape = shape;
    rebuild(rows);
  }
  for (const r of rows) {
    const node = rowNodes.get(r.key);
    if (!node) continue;
    const { tr, cells } = node;
    tr.classList.toggle('selected', r.key === state.selected);
    tr.classList.toggle('stale', r.updatedAt === undefined || Date.now() - r.updatedAt > STALE_MS);
    cells.updated.textContent = r.updatedAt === undefined ? '—' : fmtAge(r.updatedAt);
    if (!r.dirty) continue;
    r.dirty = false;
    fill(cells, r);
  }
}
