// Alerts over REST for a (re)connection of the stream: the newest, and every one missed meanwhile.

import { getJson, withQuery } from './api.js';
import { keptFrom } from './retention.js';

/** Alerts per REST page. */
export const PAGE_ALERTS = 100;
/** Pages followed at most when catching up after a reconnection. */
const MAX_PAGES = 10;

/**
 * The newest page of alerts and, given the time of the newest one already shown, every alert from
 * it on: page after page, each asked for with the previous page's `next` as `after` (an opaque
 * cursor over time and id: alerts share times, so paging by time alone would skip some), never
 * from before the alerts' retention. Newest first; an alert may come twice.
 */
export async function fetchAlerts(since) {
  const newest = (await getJson(withQuery('/api/v1/alerts', { limit: PAGE_ALERTS }))).alerts;
  if (since === undefined) return newest;
  const from = Math.max(since, keptFrom('alerts'));
  const missed = [];
  let after;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await getJson(withQuery('/api/v1/alerts', { from, after, limit: PAGE_ALERTS }));
    missed.push(...page.alerts);
    if (page.next === null) break;
    after = page.next;
  }
  return [...newest, ...missed].sort((x, y) => y.time - x.time);
}
