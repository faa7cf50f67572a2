// The chart panel: the selected market's history from the store, then its candles from the stream.

import { getJson } from './api.js';
import { drawCandles } from './candlestick.js';
import { $ } from './dom.js';
import { chartCandle, trimChart } from './markets.js';
import { schedule } from './schedule.js';
import { CHART_CANDLES, state } from './state.js';

let chartRequest = 0;

/** Shows market `key` in the chart: its last closed candles from the store, then live ones. */
export async function select(key) {
  if (state.selected === key) return;
  state.selected = key;
  state.chart.clear();
  schedule('chart');
  const row = state.markets.get(key);
  if (!row) return;
  $('chart-title').textContent = `${row.market} · ${row.exchange}`;
  $('chart-info').textContent = `${state.interval} candles · loading history…`;
  const request = ++chartRequest;
  try {
    const q = new URLSearchParams({
      exchange: row.exchange,
      symbol: row.symbol,
      interval: state.interval,
      limit: String(CHART_CANDLES),
    });
    const body = await getJson(`/api/v1/candles?${q}`);
    // Another market was selected meanwhile.
    if (request !== chartRequest) return;
    for (const c of body.candles) chartCandle(c);
    if (row.candle) chartCandle(row.candle);
    trimChart();
    $('chart-info').textContent =
      `${state.interval} candles · ${body.candles.length} closed from the store, then live over the WebSocket`;
  } catch (err) {
    if (request === chartRequest) $('chart-info').textContent = `history not loaded: ${err.message}`;
  }
  schedule('chart');
}

export function drawChart() {
  const candles = [...state.chart.values()].sort((a, b) => a.openTime - b.openTime);
  drawCandles($('chart'), candles, state.selected ? 'waiting for candles…' : 'select a market in the table');
}
