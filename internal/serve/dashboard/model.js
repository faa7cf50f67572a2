// The trend model's panel: its forecast for the selected market's next candle and its running
// record (accuracy, log loss, Brier) next to the baselines' (GET /api/v1/predictions, docs/MODEL.md).
// Never a figure without its baselines, and it says when the model does not beat them.

import { getOptional, withQuery } from './api.js';
import { marketParams, selectedRow } from './chart.js';
import { $, el } from './dom.js';
import { showPanel } from './page.js';

const BASELINES = ['persistence', 'majority', 'coin'];
/** The model against one baseline, by the significance rule of docs/MODEL.md. */
const VERDICT = { 'too-few': 'too few', better: 'better', 'no-difference': 'no diff.', worse: 'worse' };

let asked = 0;

const num = (v, digits) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
const pct = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—');

function row(name, score, verdict) {
  return el(
    'tr',
    { class: name === 'model' ? 'model-row' : '' },
    el('td', { class: 'l', text: name }),
    el('td', { text: pct(score?.accuracy) }),
    el('td', { text: num(score?.logLoss, 4) }),
    el('td', { text: num(score?.brier, 4) }),
    el('td', { class: `l verdict-${verdict ?? 'none'}`, text: verdict ? (VERDICT[verdict] ?? verdict) : '' }),
  );
}

function render(row0, p) {
  $('model-title').textContent = `${row0.market} · ${marketParams(row0).interval}`;
  $('model-table').hidden = !p;
  if (!p) {
    $('model-signal').textContent = 'no forecast yet: the model warms up on the first closed candles';
    $('model-body').replaceChildren();
    $('model-verdict').textContent = '';
    return;
  }
  const up = p.pUp > 0.5;
  const lean = p.pUp === 0.5 ? 'no lean' : up ? 'up' : 'down';
  const when = new Date(p.targetOpenTime).toISOString().slice(11, 19);
  $('model-signal').replaceChildren(
    document.createTextNode(`next candle (${when}Z): P(up) ${p.pUp.toFixed(3)} `),
    el('span', { class: p.pUp === 0.5 ? 'muted' : up ? 'up' : 'down', text: lean }),
  );
  const s = p.scores;
  $('model-body').replaceChildren(
    row('model', s.model),
    ...BASELINES.map((b) => row(b, s.baselines?.[b], s.verdicts?.[b])),
  );
  $('model-verdict').textContent = s.beatsBaselines
    ? `beats all three baselines over ${s.scored} scored candles`
    : `does not beat the baselines on this market (${s.scored} scored candles)`;
  $('model-verdict').className = `verdict ${s.beatsBaselines ? 'up' : 'muted'}`;
}

/** Loads the selected market's newest forecast; the panel hides when the API has no predictions route. */
export async function refreshModel() {
  const r = selectedRow();
  if (!r) return;
  const mine = ++asked;
  try {
    const body = await getOptional(withQuery('/api/v1/predictions', { ...marketParams(r), limit: 1 }));
    if (mine !== asked) return;
    showPanel('model-panel', body !== undefined);
    if (body) render(r, body.predictions.at(-1));
  } catch {
    // A failed poll keeps what is shown; the next one tries again.
  }
}
