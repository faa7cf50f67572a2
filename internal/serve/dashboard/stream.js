// The live side: the WebSocket stream (/api/v1/stream), reconnected with backoff, and on every
// (re)connection a REST snapshot of what happened meanwhile.

import { fetchAlerts } from './alert-history.js';
import { onAlert } from './alerts.js';
import { apiKey, getJson } from './api.js';
import { newer } from './candle-order.js';
import { onChartIndicators, select, selectedRow } from './chart.js';
import { $ } from './dom.js';
import { onIndex } from './index-prices.js';
import { ensureMarket, onCandle } from './markets.js';
import { setSimulated, setStatus, showError } from './page.js';
import { schedule } from './schedule.js';
import { state } from './state.js';
import { onVerification, refreshVerification } from './verification.js';

let backoff = 500;
let socket;
/** The next `subscribed` reloads the snapshot and the chart: set on (re)connection and interval change. */
let reload = true;
const indicatorHooks = [];

/** `fn(values)` runs for each indicator row of the selected market from the stream. */
export function whenIndicators(fn) {
  indicatorHooks.push(fn);
}

async function loadSnapshot() {
  const [markets, alerts] = await Promise.all([
    getJson(`/api/v1/markets?interval=${encodeURIComponent(state.interval)}`),
    fetchAlerts(state.alerts[0]?.time),
  ]);
  for (const m of markets.markets) {
    const row = ensureMarket(m);
    if (m.candle && (!row.candle || newer(m.candle, row.candle))) {
      row.candle = m.candle;
      row.updatedAt = m.lastSeen ?? undefined;
      row.dirty = true;
    }
  }
  for (const a of alerts) onAlert(a, false);
  if (state.selected === undefined && state.markets.size > 0) {
    const first = [...state.markets.values()].sort((a, b) => a.market.localeCompare(b.market))[0];
    select(first.key);
  }
  schedule();
}

/**
 * What the page follows: every market's candles (a closed candle comes again with its judgement,
 * docs/API.md), alerts, index prices, the selected market's indicators.
 */
function subscription() {
  const subscribe = {
    candles: { interval: state.interval, exchange: '*', symbol: '*' },
    alerts: true,
    index: true,
  };
  const row = selectedRow();
  if (row) subscribe.indicators = { interval: state.interval, exchange: row.exchange, symbol: row.symbol };
  return JSON.stringify({ subscribe });
}

/**
 * Sends the subscription again (another market selected, another interval); with `reloadAll`
 * the markets, alerts and chart are loaded again once it is taken.
 */
export function resubscribe(reloadAll = false) {
  if (reloadAll) reload = true;
  if (socket?.readyState === WebSocket.OPEN) socket.send(subscription());
}

function onMessage(msg) {
  switch (msg.type) {
    case 'hello':
      if (msg.simulated) setSimulated(true);
      $('source').textContent = `source: ${msg.source?.label ?? 'unknown'}`;
      break;
    case 'subscribed':
      backoff = 500;
      state.connectedAt = Date.now();
      setStatus('live', 'live');
      showError(undefined);
      if (!reload) break;
      reload = false;
      loadSnapshot().catch((err) => showError(`could not load the snapshot: ${err.message}`));
      refreshVerification().catch((err) => showError(`could not load the verification: ${err.message}`));
      // Candles may have closed while the stream was down, or the interval changed.
      if (state.selected) select(state.selected, { force: true });
      break;
    case 'candle': {
      state.received += 1;
      const { verification, ...candle } = msg.data;
      onCandle(candle);
      if (verification) {
        const { exchange, symbol, interval, openTime } = candle;
        onVerification({ exchange, symbol, interval, openTime, ...verification });
      }
      break;
    }
    case 'indicator': {
      state.received += 1;
      const v = msg.data;
      const row = selectedRow();
      if (row && v.exchange === row.exchange && v.symbol === row.symbol && v.interval === state.interval) {
        onChartIndicators(v);
        for (const fn of indicatorHooks) fn(v);
      }
      break;
    }
    case 'alert':
      state.received += 1;
      onAlert(msg.data, true);
      break;
    case 'index':
      state.received += 1;
      onIndex(msg.data);
      break;
    case 'dropped':
      state.dropped = msg.total;
      break;
    case 'error':
      showError(`stream: ${msg.error}`);
      break;
  }
}

/** Opens the stream and subscribes; a closed stream is opened again, waiting longer each time. */
export function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = apiKey ? `?api_key=${encodeURIComponent(apiKey)}` : '';
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/stream${query}`);
  socket = ws;
  setStatus('connecting', 'connecting');
  ws.addEventListener('open', () => {
    reload = true;
    ws.send(subscription());
  });
  ws.addEventListener('message', (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    onMessage(msg);
  });
  ws.addEventListener('close', (ev) => {
    setStatus('down', `disconnected${ev.reason ? `: ${ev.reason}` : ''} · retrying`);
    setTimeout(connect, backoff);
    backoff = Math.min(10_000, backoff * 2);
  });
}
