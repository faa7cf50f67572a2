// tickmesh dashboard: browser ES modules served as they are (no build step, nothing from a CDN).
// Reads /api/v1 over REST for what already happened and /api/v1/stream for what happens next.

import { renderAlerts } from './alerts.js';
import { getJson } from './api.js';
import { drawChart } from './chart.js';
import { $ } from './dom.js';
import { renderIndex } from './index-prices.js';
import { setSimulated, showError } from './page.js';
import { onFrame, schedule } from './schedule.js';
import { state } from './state.js';
import { connect } from './stream.js';
import { renderTable } from './table.js';

onFrame((parts) => {
  renderTable();
  if (parts.has('chart')) drawChart();
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

async function start() {
  try {
    const info = await getJson('/api/v1/info');
    state.interval = info.dashboardInterval ?? state.interval;
    $('source').textContent = `source: ${info.source?.label ?? 'unknown'}`;
    if (info.simulated) setSimulated(true);
  } catch (err) {
    showError(`API not reachable: ${err.message}`);
  }
  schedule('chart', 'alerts', 'index');
  connect();
  let lastReceived = 0;
  setInterval(() => {
    tick(lastReceived);
    lastReceived = state.received;
  }, 1000);
  window.addEventListener('resize', () => schedule('chart'));
}

start();
