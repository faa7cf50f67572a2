// History over REST: a series route's newest page, a range followed through `next`, and the page
// before the chart's oldest candle for scrolling back.

import { getJson, withQuery } from './api.js';
import { intervalMs } from './intervals.js';
import { keptFrom } from './retention.js';
import { PAGE_CANDLES } from './state.js';

/** Pages followed for one range at most: a range is asked for in pages of PAGE_CANDLES intervals. */
const MAX_PAGES = 10;

/** The newest PAGE_CANDLES rows of `field` of a series route, oldest first. */
export async function fetchLatest(path, field, market) {
  return (await getJson(withQuery(path, { ...market, limit: PAGE_CANDLES })))[field];
}

/** Rows of `field` over open times [from, to), following the route's `next` while pages are full. */
export async function fetchRange(path, field, market, from, to) {
  const rows = [];
  let start = from;
  for (let i = 0; i < MAX_PAGES && start !== null && start < to; i++) {
    const body = await getJson(withQuery(path, { ...market, from: start, to, limit: PAGE_CANDLES }));
    rows.push(...body[field]);
    start = body.next;
  }
  return rows;
}

/**
 * The candles (and their indicator rows) just before open time `before`: PAGE_CANDLES intervals
 * back, reaching further over a gap in the history (a stop of the workers) up to the first stored
 * candle, and never before the interval's retention. `start` says that nothing older is stored
 * (or kept).
 */
export async function fetchOlder(market, before) {
  const none = { candles: [], indicators: [], start: true };
  const kept = keptFrom(market.interval);
  if (before <= kept) return none;
  let span = PAGE_CANDLES * intervalMs(market.interval);
  let earliest;
  for (;;) {
    const from = Math.max(kept, before - span, earliest ?? 0);
    const candles = await fetchRange('/api/v1/candles', 'candles', market, from, before);
    if (candles.length > 0) {
      const indicators = await fetchRange('/api/v1/indicators', 'indicators', market, candles[0].openTime, before);
      return { candles, indicators, start: false };
    }
    if (from === kept) return none;
    if (earliest === undefined) {
      // With an end and no start the route answers the oldest rows: the first stored candle.
      const first = await getJson(
        withQuery('/api/v1/candles', { ...market, from: kept > 0 ? kept : undefined, to: before, limit: 1 }),
      );
      if (first.candles.length === 0) return none;
      earliest = first.candles[0].openTime;
    } else if (from === earliest) {
      return none;
    }
    span *= 4;
  }
}
