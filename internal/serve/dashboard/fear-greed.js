// The Crypto Fear & Greed index: its newest daily value and classification, from
// GET /api/v1/sentiment. Hidden while the API has no such route.

import { getOptional } from './api.js';
import { $ } from './dom.js';
import { showPanel } from './page.js';

export async function refreshFearGreed() {
  try {
    const body = await getOptional('/api/v1/sentiment?index=fear-greed&limit=7');
    showPanel('sentiment-panel', body !== undefined);
    if (body) render(body.sentiment.reduce((a, b) => (a === undefined || b.time > a.time ? b : a), undefined));
  } catch {
    // A failed poll keeps what is shown.
  }
}

function render(s) {
  $('sentiment-value').textContent = s ? String(s.value) : '—';
  $('sentiment-class').textContent = s ? s.classification : 'no value yet';
  $('sentiment-time').textContent = s ? `${new Date(s.time).toISOString().slice(0, 10)} · ${s.source}` : '';
  const mark = $('sentiment-mark');
  mark.hidden = !s;
  if (s) mark.style.left = `${Math.max(0, Math.min(100, s.value))}%`;
}
