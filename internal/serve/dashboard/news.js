// The selected asset's latest headlines with their sentiment score, from GET /api/v1/news.
// Hidden while the API has no such route.

import { getOptional, withQuery } from './api.js';
import { $, el } from './dom.js';
import { fmtAge } from './format.js';
import { showPanel } from './page.js';

const SHOWN = 8;

export async function refreshNews(asset) {
  try {
    const body = await getOptional(withQuery('/api/v1/news', { asset, limit: 50 }));
    showPanel('news-panel', body !== undefined);
    if (body) render(asset, body.news);
  } catch {
    // A failed poll keeps what is shown.
  }
}

const when = (n) => n.published ?? n.receiveTime;

function tone(score) {
  if (score > 0) return { cls: 'up', text: `+${score}` };
  if (score < 0) return { cls: 'down', text: String(score) };
  return { cls: 'muted', text: '0' };
}

function render(asset, news) {
  $('news-title').textContent = asset;
  const list = $('news-list');
  const items = [...news].sort((a, b) => when(b) - when(a)).slice(0, SHOWN);
  if (items.length === 0) {
    list.replaceChildren(el('li', { class: 'empty', text: `no headline names ${asset} yet` }));
    return;
  }
  list.replaceChildren(
    ...items.map((n) => {
      const t = tone(n.sentiment.score);
      // Only web links: a feed's `javascript:` link must not become one on this page.
      const title = /^https?:\/\//i.test(n.link ?? '')
        ? el('a', { href: n.link, target: '_blank', rel: 'noopener noreferrer', text: n.title })
        : el('span', { text: n.title });
      return el(
        'li',
        {},
        el(
          'div',
          { class: 'meta' },
          el('span', { class: `score ${t.cls}`, title: 'sentiment score (AFINN)', text: t.text }),
          el('span', { text: n.source }),
          el('span', { text: fmtAge(when(n)) }),
        ),
        el('div', { class: 'msg' }, title),
      );
    }),
  );
}
