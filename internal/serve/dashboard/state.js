// What the page knows: one object, written by the stream and the REST loads, read by the renderers.

export const CHART_CANDLES = 90;
export const MAX_ALERTS = 100;
export const STALE_MS = 15_000;

export const state = {
  interval: '1m',
  simulated: false,
  /** key `exchange:symbol` -> { key, exchange, symbol, market, candle, updatedAt, dirty, flash } */
  markets: new Map(),
  /** selected market key */
  selected: undefined,
  /** candles of the selected market, by open time */
  chart: new Map(),
  /** alert ids already shown */
  alertIds: new Set(),
  alerts: [],
  /** asset -> { value, updatedAt } */
  index: new Map(),
  received: 0,
  dropped: 0,
  connectedAt: undefined,
};
