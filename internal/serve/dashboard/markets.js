// The markets and the selected market's candles, as candles arrive.

import { setSimulated } from './page.js';
import { schedule } from './schedule.js';
import { CHART_CANDLES, state } from './state.js';

/** Whether `a` is a later state of the same window than `b` (the server's ordering). */
export function newer(a, b) {
  if (a.openTime !== b.openTime) return a.openTime > b.openTime;
  if (a.revision !== b.revision) return a.revision > b.revision;
  if (a.closed !== b.closed) return a.closed;
  return a.trades > b.trades;
}

/** The row of market `m`, added if new. */
export function ensureMarket(m) {
  const key = `${m.exchange}:${m.symbol}`;
  let row = state.markets.get(key);
  if (!row) {
    row = {
      key,
      exchange: m.exchange,
      symbol: m.symbol,
      market: m.market,
      candle: undefined,
      updatedAt: undefined,
      flash: undefined,
      dirty: true,
    };
    state.markets.set(key, row);
    if (m.exchange === 'sim') setSimulated(true);
  }
  return row;
}

/** Keeps `c` in the chart if it is newer than what the chart holds for its window. */
export function chartCandle(c) {
  const prev = state.chart.get(c.openTime);
  if (prev && !newer(c, prev)) return false;
  state.chart.set(c.openTime, c);
  return true;
}

/** Drops the oldest candles beyond what the chart shows. */
export function trimChart() {
  if (state.chart.size <= CHART_CANDLES) return;
  const times = [...state.chart.keys()].sort((a, b) => a - b);
  for (const t of times.slice(0, times.length - CHART_CANDLES)) state.chart.delete(t);
}

/** A candle from the stream. */
export function onCandle(c) {
  if (c.interval !== state.interval) return;
  const row = ensureMarket(c);
  if (!row.candle || newer(c, row.candle)) {
    if (row.candle) {
      const before = Number(row.candle.close);
      const after = Number(c.close);
      if (after !== before) row.flash = after > before ? 'flash-up' : 'flash-down';
    }
    row.candle = c;
    row.updatedAt = Date.now();
    row.dirty = true;
  }
  if (row.key === state.selected && chartCandle(c)) {
    trimChart();
    schedule('chart');
  }
  schedule();
}
