import type { Bus } from '../bus/bus.js';
import { encodeHeartbeat, heartbeatSubject, type PartitionBeat } from '../operator/heartbeat-message.js';

/**
 * Publishes this worker's heartbeat on `tickmesh.worker.alive.<member>` every `everyMs` until
 * `signal` aborts: the member name and, per partition it runs, the epoch, the measured input rate,
 * the lag and whether it is paused (internal/operator/heartbeat-message.ts). A worker that is
 * killed stops beating at once, long before Kubernetes marks its pod unready, so the operator can
 * move its partitions sooner, and a new owner knows not to wait for its release
 * (internal/operator/liveness.ts reads the beats); the operator's placement weighs the rates.
 */
export function startHeartbeat(
  bus: Bus,
  member: string,
  partitions: (now: number) => readonly PartitionBeat[],
  everyMs: number,
  signal: AbortSignal,
): void {
  const subject = heartbeatSubject(member);
  const beat = () => {
    const now = Date.now();
    // Fields left undefined are dropped by JSON.stringify; the rate is sent to 3 decimals.
    const owned = partitions(now).map((p) =>
      p.rate === undefined ? p : { ...p, rate: Math.round(p.rate * 1000) / 1000 },
    );
    bus.publish(subject, encodeHeartbeat({ member, partitions: owned, time: now }));
  };
  beat();
  const timer = setInterval(beat, everyMs);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
