import type { RetryPolicy } from './retry.js';

/**
 * Every backoff tickmesh uses, in one place: each retry() call spreads one of these and adds its
 * signal, its logging and, where it differs from `retriable`, which errors it retries.
 */

/**
 * A checkpoint commit while PostgreSQL is away or out of a resource: until it is back (the
 * partition pauses behind it and /readyz says why) or the run is aborted.
 */
export const COMMIT_RETRY: RetryPolicy = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  maxAttempts: Number.POSITIVE_INFINITY,
});

/** The durable outputs (JetStream, Redis, the late and rejected topics) a checkpoint waits for. */
export const OUTPUT_RETRY: RetryPolicy = Object.freeze({
  initialDelayMs: 50,
  maxDelayMs: 5_000,
  maxAttempts: Number.POSITIVE_INFINITY,
});

/** A worker claiming a placed partition while the store is unavailable (the claim is idempotent at one epoch). */
export const CLAIM_RETRY: RetryPolicy = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 2_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  jitter: 'none',
});

/** A release announcement on the placement bucket; the caller bounds it by the handoff wait. */
export const ANNOUNCE_RETRY: RetryPolicy = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 1_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  jitter: 'none',
});

/**
 * The worker's placement watch after it broke or ended: watched again a second later, always. The
 * diff against the last applied document makes up for what it missed, so there is no reason to
 * wait longer while NATS is away.
 */
export const REWATCH: RetryPolicy = Object.freeze({
  initialDelayMs: 1_000,
  maxDelayMs: 1_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  jitter: 'none',
});

/** A produce request while Kafka is unavailable: until it is back or the producer is abandoned. */
export const PRODUCE_RETRY: RetryPolicy = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 5_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  jitter: 'none',
});

/**
 * A venue feed's connection after it was lost: full jitter, so that the many connections of a
 * venue that dropped them all together do not come back in step. A session that delivered a frame
 * resets it.
 */
export const RECONNECT: RetryPolicy = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
});

/**
 * The operator's pod list/watch after a request failed (API server down, connection refused). At
 * least half the cap: an API server that just refused is not asked again at once.
 */
export const WATCH_RESTART: RetryPolicy = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  jitter: 'equal',
});

/** `tickmesh topics` waiting for Kafka to come up (bounded by --wait). */
export const KAFKA_WAIT: RetryPolicy = Object.freeze({
  initialDelayMs: 1_000,
  maxDelayMs: 5_000,
  maxAttempts: Number.POSITIVE_INFINITY,
});

/** A venue's REST kline page (`tickmesh verify`); at least the venue's Retry-After on 429 and 418. */
export const VENUE_REQUEST_RETRY: RetryPolicy = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: 6,
});
