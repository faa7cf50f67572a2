// The alerts list: the newest MAX_ALERTS, newest first, each shown once; an alert of a market
// links to its candle on the chart; a news spike shows its headline.

import { showAlert } from './chart.js';
import { $, el } from './dom.js';
import { fmtTime } from './format.js';
import { setSimulated } from './page.js';
import { schedule } from './schedule.js';
import { MAX_ALERTS, state } from './state.js';

/** An alert from the store (`live` false) or the stream. */
export function onAlert(a, live) {
  if (state.alertIds.has(a.id)) return;
  state.alertIds.add(a.id);
  state.alerts.push(a);
  state.alerts.sort((x, y) => y.time - x.time || (y.id < x.id ? -1 : 1));
  for (const gone of state.alerts.splice(MAX_ALERTS)) state.alertIds.delete(gone.id);
  if (live && a.exchange === 'sim') setSimulated(true);
  schedule('alerts', 'markers');
}

/**
 * The text of an alert; for a `news_spike`, the spike's message and below it the headline of its
 * evidence (a link to the story when it is a web link), its source and sentiment score.
 */
function body(a) {
  const e = a.evidence ?? {};
  if (a.kind !== 'news_spike' || typeof e.headline !== 'string') return [el('div', { class: 'msg', text: a.message })];
  const suffix = `; headline: ${e.headline}`;
  const spike = a.message.endsWith(suffix) ? a.message.slice(0, -suffix.length) : a.message;
  // Only web links: a feed's `javascript:` link must not become one on this page.
  const title = /^https?:\/\//i.test(e.headlineLink ?? '')
    ? el('a', { class: 'story', href: e.headlineLink, target: '_blank', rel: 'noopener noreferrer', text: e.headline })
    : el('span', { text: e.headline });
  // The link opens the story, not the candle.
  title.addEventListener('click', (ev) => ev.stopPropagation());
  const score = typeof e.headlineSentiment === 'number' ? e.headlineSentiment : undefined;
  return [
    el('div', { class: 'msg', text: spike }),
    el(
      'div',
      { class: 'headline' },
      el('span', { class: 'source', text: e.headlineSource ?? 'news' }),
      score === undefined
        ? ''
        : el('span', {
            class: `score ${score > 0 ? 'up' : score < 0 ? 'down' : 'muted'}`,
            title: 'sentiment score (AFINN)',
            text: score > 0 ? `+${score}` : String(score),
          }),
      title,
    ),
  ];
}

export function renderAlerts() {
  const list = $('alerts-list');
  list.replaceChildren();
  if (state.alerts.length === 0) list.append(el('li', { class: 'empty', text: 'no alerts yet' }));
  for (const a of state.alerts) {
    const where = a.exchange === 'index' ? `${a.symbol} index` : `${a.market} · ${a.exchange}`;
    const linked = state.markets.has(`${a.exchange}:${a.symbol}`);
    const item = el(
      'li',
      linked ? { class: 'linked', title: 'show its candle on the chart', 'data-alert': a.id } : {},
      el(
        'div',
        { class: 'meta' },
        el('span', { text: fmtTime(a.time) }),
        el('span', { class: `sev sev-${a.severity}`, text: a.severity }),
        el('span', { class: 'kind', text: a.kind.replaceAll('_', ' ') }),
        el('span', { text: where }),
      ),
      ...body(a),
    );
    if (linked) item.addEventListener('click', () => showAlert(a));
    list.append(item);
  }
  $('alerts-count').textContent = state.alerts.length > 0 ? `${state.alerts.length} newest` : '';
}
