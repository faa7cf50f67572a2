import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4's per-connection RequestQueue re-arms a 1 ms timer forever once the connection
 * has had a response (tulios/kafkajs#1704): every response and every check calls
 * `scheduleCheckPendingRequests`, which computes `throttledUntil - Date.now()` (negative:
 * `throttledUntil` is -1 unless the broker throttles) and schedules it even with nothing pending,
 * and the timer's check schedules the next. So every broker connection of every client woke the
 * event loop about a thousand times a second, and Node 24 warns that the delay is negative
 * (TimeoutNegativeWarning, tulios/kafkajs#1751). kafkajs has had no release since; the fix is the
 * one discussed in tulios/kafkajs#1768: with nothing pending and no throttle to wait out,
 * schedule nothing. A request that has to wait is queued by `push`, which schedules a check, and
 * every completed request checks the queue, so nothing waits for a timer that was not set.
 */
export interface RequestQueueInternals {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL: how soon a waiting request is looked at again. */
const CHECK_PENDING_MS = 10;

/** The statement of the 2.2.4 code this replaces; another version is left alone. */
const REPLACED = 'let scheduleAt = this.throttledUntil - Date.now()';

const require = createRequire(import.meta.url);

/** kafkajs's RequestQueue class (CommonJS, not part of its public API). */
export function requestQueueClass(): { prototype: RequestQueueInternals } {
  return require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueInternals };
}

function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
  if (this.throttleCheckTimeoutId) return;
  let scheduleAt = this.throttledUntil - Date.now();
  if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_MS;
  else if (scheduleAt <= 0) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, scheduleAt);
}

/**
 * Replaces RequestQueue.scheduleCheckPendingRequests (once per process; every tickmesh Kafka
 * client calls it). Returns whether the fix is in place: false when kafkajs's code is not the
 * version it was written for.
 */
export function fixRequestQueueTimers(): boolean {
  const proto = requestQueueClass().prototype;
  if (proto.scheduleCheckPendingRequests === scheduleCheckPendingRequests) return true;
  if (!proto.scheduleCheckPendingRequests.toString().includes(REPLACED)) return false;
  proto.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  return true;
}
