// The markets and their open candles, as candles arrive.

import { newer } from './candle-order.js';
import { onChartCandle } from './chart.js';
import { setSimulated } from './page.js';
import { schedule } from './schedule.js';
import { state } from './state.js';

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

/** Forgets every row's candle: they were of another interval. */
export function clearCandles() {
  for (const row of state.markets.values()) {
    row.candle = undefined;
    row.dirty = true;
  }
  schedule();
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
  if (row.key === state.selected) onChartCandle(c);
  schedule();
}
