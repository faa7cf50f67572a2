import { type ActorConfig, actorConfig } from '../actor/config.js';
import type { WorkerOptions } from '../config/worker.js';
import type { Interval } from '../market/interval.js';
import type { ReconcilerHostConfig } from './reconciler-host.js';
import type { WorkerConfig } from './worker.js';

/** The worker's runtime config from its options. */
export function workerConfig(o: WorkerOptions): WorkerConfig {
  return {
    topic: o.topic,
    outputTopics: { late: o.lateTopic, rejected: o.rejectedTopic },
    partition: {
      checkpointIntervalMs: o.checkpointIntervalMs,
      stateCheckpointIntervalMs: o.stateCheckpointIntervalMs,
      maxPendingRows: o.maxPendingRows,
      mailboxCapacity: o.mailboxCapacity,
      pauseAt: Math.max(1, Math.floor(o.mailboxCapacity / 2)),
      resumeAt: Math.max(0, Math.floor(o.mailboxCapacity / 8)),
      outOfOrdernessMs: o.outOfOrdernessMs,
      idleGraceMs: o.idleGraceMs,
      maxEventSkewMs: o.maxEventSkewMs,
      clockWatermark: o.clockWatermark,
      liveWindowMs: o.liveWindowMs,
      ...(o.evictIdleMs > 0 ? { evictIdleMs: o.evictIdleMs } : {}),
    },
    tickMs: 250,
    liveCacheIntervalMs: o.liveCacheIntervalMs,
    drainTimeoutMs: o.drainTimeoutMs,
    retention: o.retention,
    retentionEveryMs: 3_600_000,
  };
}

/** The actors' config from the worker's options (indicator and detector settings at their defaults). */
export function workerActorConfig(o: WorkerOptions): ActorConfig {
  return actorConfig({
    intervals: [...o.intervals],
    outOfOrdernessMs: o.outOfOrdernessMs,
    allowedLatenessMs: o.allowedLatenessMs,
    partialUpdates: o.partialUpdates,
    partialMinIntervalMs: o.partialIntervalMs,
    detectors: { interval: o.intervals.includes('1m') ? '1m' : (o.intervals[0] as Interval) },
  });
}

/** Windows each reconciler holds per market and interval, judged or waiting. */
const VERIFY_MAX_WINDOWS = 16;
/** A claim reads back the unjudged candles this far behind each series' newest. */
const VERIFY_HORIZON_MS = 2 * 3_600_000;

/** The reconciler host's config from the worker's options and the trades topic's partition count. */
export function reconcilerHostConfig(o: WorkerOptions, partitions: number): ReconcilerHostConfig {
  return {
    topic: o.klinesTopic,
    partitions,
    intervals: [...o.verifyIntervals],
    waitMs: o.verifyWaitMs,
    settleMs: o.verifySettleMs,
    maxWindows: VERIFY_MAX_WINDOWS,
    commitIntervalMs: o.checkpointIntervalMs,
    tickMs: 250,
    horizonMs: VERIFY_HORIZON_MS,
  };
}
