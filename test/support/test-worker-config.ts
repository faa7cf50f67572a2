import type { WorkerConfig } from '../../internal/worker/worker.js';

/**
 * A worker config for in-process tests: checkpoint after every batch, a small mailbox, event-time
 * watermarks only (no clock), a 5 ms tick.
 */
export function testWorkerConfig(topic: string, outputTopics: WorkerConfig['outputTopics']): WorkerConfig {
  return {
    topic,
    outputTopics,
    partition: {
      checkpointIntervalMs: 0,
      maxPendingRows: 500,
      mailboxCapacity: 8,
      pauseAt: 4,
      resumeAt: 1,
      outOfOrdernessMs: 2_000,
      idleGraceMs: 5_000,
      clockWatermark: false,
      liveWindowMs: 60_000,
    },
    tickMs: 5,
    liveCacheIntervalMs: 0,
    drainTimeoutMs: 30_000,
    retention: {},
    retentionEveryMs: 3_600_000,
  };
}
