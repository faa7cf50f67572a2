// Whether the venues agree with the candles: a badge for a candle (verified, mismatch,
// unverifiable, pending), the verified share per market (GET /api/v1/verification) and the
// mismatch list, kept live by the judged candles on the stream.

import { getOptional } from './api.js';
import { selectedRow, showCandle } from './chart.js';
import { $, el } from './dom.js';
import { fmtCandleTime, fmtTime } from './format.js';
import { schedule } from './schedule.js';
import { state } from './state.js';

/** Mismatches the list shows at most, newest first. */
const MAX_MISMATCHES = 50;
/** After a mismatch comes in, the shares are asked for again this much later (more may follow). */
const REFRESH_AFTER_MISMATCH_MS = 2_000;

/**
 * The judgement of candle `c`'s revision: the one it was loaded with, or one from the stream for
 * the selected market; null when it is closed and not judged yet (pending); undefined for the
 * open window, which is not judged.
 */
export function verdictOf(c) {
  if (!c || c.closed === false) return undefined;
  const v = c.verification ?? state.verdicts.get(c.openTime);
  return v && v.revision === c.revision ? v : null;
}

const fieldText = (d) => `${d.field} ${d.ours} ≠ ${d.theirs} (venue)`;

/** The badge of a candle's judgement (the legend shows it for the candle under the crosshair). */
export function badge(v) {
  if (v === undefined) return el('span', { class: 'badge badge-open', text: 'open' });
  const status = v === null ? 'pending' : v.status;
  const title =
    v === null
      ? 'closed; the venue’s own candle has not been compared yet'
      : v.status === 'mismatch'
        ? `the venue disagrees: ${(v.differences ?? []).map(fieldText).join('; ')}${v.likelyCause === 'gap' ? ' (a recorded gap overlaps: trades were likely lost)' : ''}`
        : v.status === 'unverifiable'
          ? `not checked: ${v.reason ?? 'the venue published no candle'}`
          : 'equal to the venue’s own candle on every field it publishes';
  return el('span', { class: `badge badge-${status}`, title, 'data-status': status, text: status });
}

/** A judgement from the stream (a closed candle published again with its `verification`). */
export function onVerification(v) {
  if (v.interval !== state.interval) return;
  const row = selectedRow();
  if (row && v.exchange === row.exchange && v.symbol === row.symbol) {
    const prev = state.verdicts.get(v.openTime);
    if (!prev || v.revision > prev.revision || (v.revision === prev.revision && v.checkedAt > prev.checkedAt)) {
      state.verdicts.set(v.openTime, v);
      schedule('markers', 'legend');
    }
  }
  if (v.status === 'mismatch') {
    addMismatch({ ...v, verification: v });
    clearTimeout(refreshTimer);
    // As the poll: a failure shows nothing more than the stream's status already does.
    refreshTimer = setTimeout(() => refreshVerification().catch(() => {}), REFRESH_AFTER_MISMATCH_MS);
  }
}

let refreshTimer;

function mismatchKey(m) {
  return `${m.exchange}:${m.symbol}:${m.interval}:${m.openTime}`;
}

function addMismatch(m) {
  const key = mismatchKey(m);
  const at = state.mismatches.findIndex((x) => mismatchKey(x) === key);
  if (at >= 0) {
    if (state.mismatches[at].verification.revision > m.verification.revision) return;
    state.mismatches.splice(at, 1);
  }
  state.mismatches.push(m);
  state.mismatches.sort((a, b) => b.openTime - a.openTime);
  state.mismatches.splice(MAX_MISMATCHES);
  schedule('mismatches');
}

/** Each market's verified share in the interval shown and the newest mismatches, over REST. */
export async function refreshVerification() {
  const interval = state.interval;
  const body = await getOptional(`/api/v1/verification?interval=${encodeURIComponent(interval)}&limit=20`);
  if (interval !== state.interval) return;
  $('verification-panel').hidden = body === undefined;
  if (body === undefined) return;
  state.shares.clear();
  for (const m of body.markets) state.shares.set(`${m.exchange}:${m.symbol}`, m);
  for (const row of state.markets.values()) row.dirty = true;
  for (const c of body.mismatches) addMismatch(c);
  state.verifiedCounts = body.counts;
  schedule('mismatches');
}

/** Another interval: what was known is of the previous one. */
export function clearVerification() {
  state.shares.clear();
  state.mismatches.length = 0;
  state.verdicts.clear();
  state.verifiedCounts = undefined;
  schedule('mismatches');
}

/** The verified share cell of market `key`: `99.2%`, with the counts as its title. */
export function shareCell(td, key) {
  const m = state.shares.get(key);
  const c = m?.counts;
  td.textContent = m?.verifiedShare == null ? '—' : `${(m.verifiedShare * 100).toFixed(1)}%`;
  td.className = `num share${c?.mismatch > 0 ? ' down' : m?.verifiedShare === 1 ? ' up' : ''}`;
  td.title = c
    ? `${state.interval}: ${c.verified} verified · ${c.mismatch} mismatch · ${c.unverifiable} unverifiable · ${c.pending} pending`
    : 'no stored candle judged against the venue yet';
}

/** How many markets the page knew at the last render: an item links only to a known market. */
let renderedMarkets = -1;

/** Draws the mismatch list when it changed (`changed`) or markets came that its items link to. */
export function renderMismatches(changed) {
  if (!changed && renderedMarkets === state.markets.size) return;
  renderedMarkets = state.markets.size;
  const list = $('mismatch-list');
  list.replaceChildren();
  if (state.mismatches.length === 0) list.append(el('li', { class: 'empty', text: 'no mismatch' }));
  for (const m of state.mismatches) {
    const row = state.markets.get(`${m.exchange}:${m.symbol}`);
    const v = m.verification;
    const item = el(
      'li',
      row ? { class: 'linked', title: 'show this candle on the chart', 'data-mismatch': mismatchKey(m) } : {},
      el(
        'div',
        { class: 'meta' },
        el('span', { text: fmtCandleTime(m.openTime, m.interval) }),
        el('span', { class: 'badge badge-mismatch', text: 'mismatch' }),
        el('span', { text: `${row?.market ?? m.symbol} · ${m.exchange}` }),
        el('span', { class: 'muted', text: `checked ${fmtTime(v.checkedAt)}` }),
      ),
      el('div', {
        class: 'msg',
        text: `${(v.differences ?? []).map(fieldText).join('; ')}${v.likelyCause === 'gap' ? ' · a gap overlaps' : ''}`,
      }),
    );
    if (row) item.addEventListener('click', () => showCandle(m.exchange, m.symbol, m.openTime));
    list.append(item);
  }
  const c = state.verifiedCounts;
  $('verification-count').textContent = c
    ? `${state.interval} · ${c.verified} verified · ${c.mismatch} mismatch · ${c.unverifiable} unverifiable`
    : '';
}
