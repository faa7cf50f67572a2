// The selected market's asset: its reference data (market cap, rank, supply, 24 h volume) from
// GET /api/v1/assets/latest. Hidden while the API has no such route.

import { getOptional } from './api.js';
import { $, el } from './dom.js';
import { fmtAge, fmtNumber } from './format.js';
import { showPanel } from './page.js';

const compact = (v, unit = '') =>
  typeof v === 'number' && Number.isFinite(v)
    ? `${v.toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 2 })}${unit}`
    : '—';

/** The asset a market is of: `BTC` of `BTC-USDT`. */
export const assetOf = (market) => market.split('-')[0];

export async function refreshAsset(asset) {
  try {
    const body = await getOptional('/api/v1/assets/latest');
    showPanel('asset-panel', body !== undefined);
    if (body)
      render(
        asset,
        body.assets.find((a) => a.asset === asset),
      );
  } catch {
    // A failed poll keeps what is shown.
  }
}

function render(asset, r) {
  $('asset-title').textContent = r ? `${asset} · ${r.source}, ${fmtAge(r.time)}` : asset;
  const facts = $('asset-facts');
  if (!r) {
    facts.replaceChildren(el('dd', { class: 'muted', text: `no reference data for ${asset} yet` }));
    return;
  }
  const cur = r.vsCurrency.toUpperCase();
  const change = r.change24hPct;
  const pairs = [
    ['price', `${fmtNumber(r.price)} ${cur}`],
    ['rank', r.rank === null ? '—' : `#${r.rank}`],
    ['market cap', compact(r.marketCap, ` ${cur}`)],
    ['24 h volume', compact(r.volume24h, ` ${cur}`)],
    ['24 h change', change === null ? '—' : `${change >= 0 ? '+' : ''}${change.toFixed(2)}%`],
    ['circulating', compact(r.circulatingSupply)],
    ['max supply', compact(r.maxSupply ?? r.totalSupply)],
  ];
  facts.replaceChildren(
    ...pairs.flatMap(([k, v]) => [
      el('dt', { text: k }),
      el('dd', { class: k === '24 h change' && change !== null ? (change >= 0 ? 'up' : 'down') : '', text: v }),
    ]),
  );
}
