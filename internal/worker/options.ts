import { type ActorConfig, actorConfig } from '../actor/config.js';
import type { WorkerOptions } from '../config/worker.js';
import type { Interval } from '../market/interval.js';
import type { WorkerConfig } from './worker.js';

/** The worker's runtime config from its options. */
export function workerConfig(o: WorkerOptions): WorkerConfig {
  return {
    topic: o.topic,
    outputTopics: { late: o.lateTopic, rejected: o.rejectedTopic },
    partition: {
      checkpointIntervalMs: o.checkpointIntervalMs,
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
