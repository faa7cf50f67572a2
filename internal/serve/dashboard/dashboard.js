// tickmesh dashboard: browser ES modules served as they are (no build step, nothing from a CDN).
// Reads /api/v1 over REST for what already happened and /api/v1/stream for what happens next.

import { renderAlerts } from './alerts.js';
import { ApiError, apiKey, getJson, loadRoutes, useKey } from './api.js';
import { assetOf, refreshAsset } from './asset-panel.js';
import {
  candleX,
  chartStats,
  drawChart,
  drawChartOverlays,
  drawLegend,
  drawMarkers,
  initChart,
  loadOlder,
  selectedRow,
  showNewest,
  whenSelected,
} from './chart.js';
import { $ } from './dom.js';
import { refreshFearGreed } from './fear-greed.js';
import { renderIndex } from './index-prices.js';
import { initIntervals } from './intervals.js';
import { clearCandles } from './markets.js';
import { refreshModel } from './model.js';
import { refreshNews } from './news.js';
import { askForKey, setSimulated, showError } from './page.js';
import { onFrame, schedule } from './schedule.js';
import { initSearch } from './search.js';
import { state } from './state.js';
import { connect, resubscribe, whenIndicators } from './stream.js';
import { renderTable } from './table.js';
import { clearVerification, refreshVerification, renderMismatches } from './verification.js';

/** Context panels (reference data, sentiment, news) and the model's record are polled this often. */
const CONTEXT_POLL_MS = 60_000;
const MODEL_POLL_MS = 20_000;
/** The verified shares move with every closed candle: asked for again this often (mismatches come live). */
const VERIFICATION_POLL_MS = 30_000;

onFrame((parts) => {
  renderTable();
  if (parts.has('chart')) drawChart();
  if (parts.has('overlays')) drawChartOverlays();
  if (parts.has('markers')) drawMarkers();
  if (parts.has('legend')) drawLegend();
  renderMismatches(parts.has('mismatches'));
  if (parts.has('alerts')) renderAlerts();
  if (parts.has('index')) renderIndex();
});

function tick(lastReceived) {
  $('clock').textContent = `${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  const rate = state.received - lastReceived;
  $('stream-stats').textContent =
    `stream: ${state.received.toLocaleString('en-US')} messages · ${rate}/s` +
    (state.dropped > 0 ? ` · ${state.dropped.toLocaleString('en-US')} dropped (the page fell behind)` : '');
  // The ages in the index panel move with the clock.
  schedule('index');
}

function refreshContext() {
  const row = selectedRow();
  refreshFearGreed();
  if (!row) return;
  refreshAsset(assetOf(row.market));
  refreshNews(assetOf(row.market));
}

async function start() {
  try {
    const info = await getJson('/api/v1/info');
    state.interval = info.dashboardInterval ?? state.interval;
    state.intervals = info.intervals ?? [state.interval];
    state.retention = info.retention ?? {};
    if (typeof info.time === 'number') state.clockSkew = info.time - Date.now();
    $('source').textContent = `source: ${info.source?.label ?? 'unknown'}`;
    if (info.simulated) setSimulated(true);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      showError(apiKey ? 'the API refused this key' : undefined);
      askForKey(useKey);
      return;
    }
    showError(`API not reachable: ${err.message}`);
  }
  await loadRoutes();
  initChart();
  initSearch();
  initIntervals((interval) => {
    state.interval = interval;
    clearCandles();
    clearVerification();
    resubscribe(true);
  });
  whenSelected(() => {
    // The stream follows the selected market's indicators.
    resubscribe();
    refreshModel();
    refreshContext();
  });
  // A forecast is committed with its candle's indicators: ask for it shortly after they come.
  whenIndicators(() => setTimeout(refreshModel, 1_500));
  schedule('chart', 'alerts', 'index');
  connect();
  let lastReceived = 0;
  setInterval(() => {
    tick(lastReceived);
    lastReceived = state.received;
  }, 1000);
  setInterval(refreshModel, MODEL_POLL_MS);
  setInterval(() => refreshVerification().catch(() => {}), VERIFICATION_POLL_MS);
  setInterval(refreshContext, CONTEXT_POLL_MS);
  // For the browser test (and a curious reader's console): what the chart draws, and paging back.
  window.tickmesh = { chart: chartStats, candleX, loadOlder, showNewest };
}

start();
