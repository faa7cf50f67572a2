// What the API keeps (/api/v1/info `retention`, ms per interval and for alerts): the page never asks
// for rows before it, which the API refuses with 400, and says that history ends there.

import { state } from './state.js';

/** Slack for the API's clock moving on between its /info answer and a request made later. */
const SLACK_MS = 60_000;

/**
 * The earliest time the page asks for rows of `key` (an interval or `alerts`) from, by the API's
 * clock; 0 when they are kept forever.
 */
export function keptFrom(key) {
  const keep = state.retention[key];
  if (typeof keep !== 'number' || !Number.isFinite(keep)) return 0;
  return Math.max(0, Date.now() + state.clockSkew - keep + SLACK_MS);
}
