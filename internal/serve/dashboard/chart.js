// The chart panel: the selected market's newest candles and indicators from the store, then live
// ones from the stream; older pages as the user scrolls back; alerts as markers.

import { newer } from './candle-order.js';
import { $ } from './dom.js';
import { fmtCandleTime, fmtPrice } from './format.js';
import { fetchLatest, fetchOlder } from './history.js';
import { intervalMs, nextOpen } from './intervals.js';
import { drawOverlays } from './overlays.js';
import { createPriceChart } from './price-chart.js';
import { keptFrom } from './retention.js';
import { schedule } from './schedule.js';
import { MAX_CHART_CANDLES, state } from './state.js';
import { badge, verdictOf } from './verification.js';

let chart;
/** Counts selections: an answer for an earlier one is dropped. */
let request = 0;
let loadingOlder;
/** The candles changed other than at the newest: the next frame sets them all. */
let stale = true;
const selectedHooks = [];
/** The candle under the crosshair, if any: the legend shows it rather than the newest. */
let pointed;

export function initChart() {
  chart = createPriceChart($('chart'), {
    onNeedOlder: () => {
      loadOlder();
    },
    onCrosshair: (c) => {
      pointed = c;
      showLegend(c);
    },
    timeLabel: (ms) => fmtCandleTime(ms, state.interval),
  });
}

/** `fn(row)` runs whenever another market (or the same in another interval) is shown. */
export function whenSelected(fn) {
  selectedHooks.push(fn);
}

export function selectedRow() {
  return state.selected === undefined ? undefined : state.markets.get(state.selected);
}

/** The selected market's query parameters. */
export function marketParams(row = selectedRow()) {
  return { exchange: row.exchange, symbol: row.symbol, interval: state.interval };
}

function keep(c) {
  const prev = state.chart.get(c.openTime);
  if (prev && !newer(c, prev)) return false;
  state.chart.set(c.openTime, c);
  return true;
}

/** Whether the chart's oldest candle is at the interval's retention (older ones are not kept). */
function atHorizon() {
  const kept = keptFrom(state.interval);
  return kept > 0 && state.chart.size > 0 && Math.min(...state.chart.keys()) < kept + intervalMs(state.interval);
}

function setInfo() {
  const n = state.chart.size;
  const back = state.historyStart
    ? atHorizon()
      ? 'back to the retention horizon'
      : 'back to the oldest stored'
    : n >= MAX_CHART_CANDLES
      ? 'as many as the chart holds'
      : 'scroll left for older';
  $('chart-info').textContent = `${state.interval} · ${n} candles (${back}) · live over the WebSocket`;
}

/**
 * Shows market `key`: its newest candles and indicators from the store, then live ones.
 * `force` loads it again (after a reconnect, or in another interval). Resolves when loaded.
 */
export async function select(key, { force = false } = {}) {
  if (state.selected === key && !force) return;
  state.selected = key;
  state.chart.clear();
  state.indicators.clear();
  state.verdicts.clear();
  state.historyStart = false;
  stale = true;
  schedule('chart', 'overlays', 'markers');
  const row = state.markets.get(key);
  if (!row) return;
  for (const fn of selectedHooks) fn(row);
  $('chart-title').textContent = `${row.market} · ${row.exchange}`;
  $('chart-info').textContent = `${state.interval} · loading history…`;
  const mine = ++request;
  try {
    const market = marketParams(row);
    const [candles, indicators] = await Promise.all([
      fetchLatest('/api/v1/candles', 'candles', market),
      fetchLatest('/api/v1/indicators', 'indicators', market),
    ]);
    if (mine !== request) return;
    for (const c of candles) keep(c);
    if (row.candle) keep(row.candle);
    for (const v of indicators) state.indicators.set(v.openTime, v);
    setInfo();
  } catch (err) {
    if (mine === request) $('chart-info').textContent = `history not loaded: ${err.message}`;
  }
  stale = true;
  schedule('chart', 'overlays', 'markers');
}

/** Loads the page of history before the oldest candle shown; resolves when it is drawn. */
export function loadOlder() {
  if (loadingOlder || state.historyStart || state.chart.size === 0 || state.chart.size >= MAX_CHART_CANDLES) {
    return loadingOlder ?? Promise.resolve();
  }
  const row = selectedRow();
  if (!row) return Promise.resolve();
  const mine = request;
  const oldest = Math.min(...state.chart.keys());
  $('chart-info').textContent = `${state.interval} · loading older candles…`;
  loadingOlder = fetchOlder(marketParams(row), oldest)
    .then(({ candles, indicators, start }) => {
      if (mine !== request) return;
      for (const c of candles) keep(c);
      for (const v of indicators) state.indicators.set(v.openTime, v);
      state.historyStart = start;
      setInfo();
      // Nothing older: the chart stays as it is (a redraw could move a view just set by showAlert).
      if (candles.length === 0) return;
      stale = true;
      schedule('chart', 'overlays', 'markers');
    })
    .catch((err) => {
      if (mine === request) $('chart-info').textContent = `older candles not loaded: ${err.message}`;
    })
    .finally(() => {
      loadingOlder = undefined;
    });
  return loadingOlder;
}

/** A candle of the selected market from the stream. */
export function onChartCandle(c) {
  const known = state.chart.has(c.openTime);
  if (!keep(c)) return;
  if (!known) setInfo();
  if (state.chart.size > MAX_CHART_CANDLES) {
    state.chart.delete(Math.min(...state.chart.keys()));
    state.historyStart = false;
    stale = true;
  }
  // The newest candle is drawn at once; any other change redraws them all in the next frame.
  if (stale || !chart.updateCandle(c)) {
    stale = true;
    schedule('chart');
  }
  if (c.closed) schedule('markers');
  if (pointed === undefined) showLegend(undefined);
}

/** An indicator row of the selected market from the stream. */
export function onChartIndicators(v) {
  state.indicators.set(v.openTime, v);
  schedule('overlays');
}

function sortedCandles() {
  return [...state.chart.values()].sort((a, b) => a.openTime - b.openTime);
}

export function drawChart() {
  if (!stale) return;
  stale = false;
  chart.setCandles(sortedCandles());
  showLegend(pointed);
}

export function drawChartOverlays() {
  drawOverlays(chart);
}

/** The open time of the chart's candle holding time `ms` (a calendar month for 1M), if loaded. */
function candleAt(ms) {
  let best;
  for (const t of state.chart.keys()) if (t <= ms && (best === undefined || t > best)) best = t;
  return best !== undefined && ms < nextOpen(best, state.interval) ? best : undefined;
}

const alertColor = { info: '#8cc4ff', warning: '#f3c969', critical: '#ff9aa2' };

/** The selected market's alerts as markers on their candles, and its candles the venue disagrees with. */
export function drawMarkers() {
  const row = selectedRow();
  const marks = [];
  for (const c of state.chart.values()) {
    if (verdictOf(c)?.status === 'mismatch') {
      marks.push({ time: c.openTime, text: 'mismatch', color: '#ff5c6c', position: 'belowBar', shape: 'circle' });
    }
  }
  for (const a of state.alerts) {
    if (!row || a.exchange !== row.exchange || a.symbol !== row.symbol) continue;
    const time = candleAt(a.time);
    if (time !== undefined)
      marks.push({ time, text: a.kind.replaceAll('_', ' '), color: alertColor[a.severity] ?? '#8cc4ff' });
  }
  chart.setMarkers(marks);
}

/** Shows alert `a` on the chart: its market, history back to it, and its candle in the middle. */
export function showAlert(a) {
  return showCandle(a.exchange, a.symbol, a.time);
}

/** Shows the candle of a market holding time `ms`: the market, history back to it, the candle in the middle. */
export async function showCandle(exchange, symbol, ms) {
  const key = `${exchange}:${symbol}`;
  if (!state.markets.has(key)) return;
  await select(key);
  while (!state.historyStart && state.chart.size > 0 && state.chart.size < MAX_CHART_CANDLES) {
    if (Math.min(...state.chart.keys()) <= ms) break;
    await loadOlder();
  }
  drawChart();
  const time = candleAt(ms);
  if (time !== undefined) chart.showTime(time);
}

function showLegend(c) {
  const shown = c ?? sortedCandles().at(-1);
  if (!shown) {
    $('legend').textContent = '';
    return;
  }
  const f = (v) => fmtPrice(String(v));
  // A candle from the chart's crosshair has its time in seconds; one from the store its openTime.
  const open = shown.openTime ?? shown.time * 1000;
  $('legend').textContent =
    `${fmtCandleTime(open, state.interval)}  O ${f(shown.open)} H ${f(shown.high)} L ${f(shown.low)} C ${f(shown.close)} `;
  // Whether the venue agrees with this candle (the crosshair's bar is looked up by its time).
  $('legend').append(badge(verdictOf(state.chart.get(open))));
}

/** The legend again: a judgement of its candle came in. */
export function drawLegend() {
  showLegend(pointed);
}

/** Where the candle opening at `ms` is drawn (px from the chart's left), for the browser test. */
export function candleX(ms) {
  return chart.candleX(ms);
}

/** Back to the newest candle. */
export function showNewest() {
  chart.showNewest();
}

/** What the chart draws, for the browser test. */
export function chartStats() {
  return { ...chart.stats(), selected: state.selected, interval: state.interval, historyStart: state.historyStart };
}
