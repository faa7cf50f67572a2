// Indicator overlays the user picks: SMA, EMA and VWAP lines on the price pane, volatility and
// taker imbalance in panes of their own. The lines come from the indicator rows the chart holds
// (/api/v1/indicators, then the stream's `indicators` subscription); the SMA and EMA periods are
// whatever the workers compute.

import { $, el } from './dom.js';
import { schedule } from './schedule.js';
import { state } from './state.js';

const STORE = 'tickmesh.overlays';
const DEFAULT = ['sma:20', 'ema:12'];
const COLORS = ['#f5c542', '#c77dff', '#4aa3ff', '#ff9f43', '#2ec4b6', '#ef476f'];

/** Every overlay the rows offer, in a fixed order: { id, label, pane ('price' | id), value(row) }. */
function available() {
  const newest = [...state.indicators.values()].at(-1);
  const periods = (field) =>
    Object.keys(newest?.[field] ?? {})
      .map(Number)
      .sort((a, b) => a - b);
  return [
    ...periods('sma').map((p) => ({ id: `sma:${p}`, label: `SMA ${p}`, pane: 'price', value: (r) => r.sma?.[p] })),
    ...periods('ema').map((p) => ({ id: `ema:${p}`, label: `EMA ${p}`, pane: 'price', value: (r) => r.ema?.[p] })),
    { id: 'vwap', label: 'VWAP', pane: 'price', value: (r) => r.vwap },
    { id: 'volatility', label: 'Volatility', pane: 'volatility', value: (r) => r.volatility },
    { id: 'imbalance', label: 'Imbalance', pane: 'imbalance', value: (r) => r.imbalance },
  ];
}

function loadChosen() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) ?? 'null');
    return new Set(Array.isArray(saved) ? saved : DEFAULT);
  } catch {
    return new Set(DEFAULT);
  }
}

const chosen = loadChosen();
let shownIds = '';

/** The check boxes, rebuilt when the rows offer other overlays (another market's periods). */
export function renderOverlayControls() {
  const list = available();
  const ids = list.map((o) => o.id).join('|');
  if (ids === shownIds) return;
  shownIds = ids;
  $('overlays').replaceChildren(
    ...list.map((o) => {
      const box = el('input', { type: 'checkbox', 'data-overlay': o.id });
      box.checked = chosen.has(o.id);
      box.addEventListener('change', () => {
        if (box.checked) chosen.add(o.id);
        else chosen.delete(o.id);
        localStorage.setItem(STORE, JSON.stringify([...chosen]));
        schedule('overlays');
      });
      return el('label', { class: 'overlay' }, box, document.createTextNode(o.label));
    }),
  );
}

/** Draws the chosen overlays on `chart` (price-chart.js) and removes the others. */
export function drawOverlays(chart) {
  renderOverlayControls();
  const rows = [...state.indicators.values()].sort((a, b) => a.openTime - b.openTime);
  const list = available();
  const panes = ['price', ...['volatility', 'imbalance'].filter((p) => chosen.has(p))];
  const wanted = new Set(list.filter((o) => chosen.has(o.id)).map((o) => o.id));
  // Lines go first, so that a pane left empty goes before the lines below it take their places.
  for (const id of chart.lineIds()) if (!wanted.has(id)) chart.removeLine(id);
  list.forEach((o, i) => {
    if (!wanted.has(o.id)) return;
    const points = [];
    for (const r of rows) {
      const v = o.value(r);
      if (typeof v === 'number' && Number.isFinite(v)) points.push({ time: r.openTime, value: v });
    }
    chart.setLine(o.id, { pane: panes.indexOf(o.pane), color: COLORS[i % COLORS.length], title: o.label }, points);
  });
}
