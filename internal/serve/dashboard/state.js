// What the page knows: one object, written by the stream and the REST loads, read by the renderers.

/** Candles (and indicator rows) per REST page, for the first load and each page back in history. */
export const PAGE_CANDLES = 300;
/** The chart holds at most this many candles; live ones beyond it push the oldest out. */
export const MAX_CHART_CANDLES = 5000;
export const MAX_ALERTS = 100;
export const STALE_MS = 15_000;

export const state = {
  interval: '1m',
  /** Intervals the API serves (/api/v1/info), in its order. */
  intervals: [],
  /** How long the API keeps rows, ms per interval and `alerts` (/api/v1/info); absent: forever. */
  retention: {},
  /** The API's clock minus this browser's, in ms (from /api/v1/info `time`). */
  clockSkew: 0,
  simulated: false,
  /** key `exchange:symbol` -> { key, exchange, symbol, market, candle, updatedAt, dirty, flash } */
  markets: new Map(),
  /** What the markets table shows: rows whose market or exchange contains it (lower case). */
  search: '',
  /** selected market key */
  selected: undefined,
  /** candles of the selected market, by open time */
  chart: new Map(),
  /** indicator rows of the selected market, by open time */
  indicators: new Map(),
  /** No older candle than the chart's oldest in the store (or kept by its retention). */
  historyStart: false,
  /** alert ids already shown */
  alertIds: new Set(),
  alerts: [],
  /** key `exchange:symbol` -> its verification in the interval shown ({counts, verifiedShare}) */
  shares: new Map(),
  /** candles judged `mismatch` (with `verification`), newest first */
  mismatches: [],
  /** the interval's counts by status over every market (GET /api/v1/verification) */
  verifiedCounts: undefined,
  /** judgements from the stream for the selected market, by open time */
  verdicts: new Map(),
  /** asset -> { value, updatedAt } */
  index: new Map(),
  received: 0,
  dropped: 0,
  connectedAt: undefined,
};
