import type { Bus } from '../bus/bus.js';
import { heartbeatSubject } from '../operator/liveness.js';

/**
 * Publishes this worker's liveness on `tickmesh.worker.alive.<member>` every `everyMs` until
 * `signal` aborts: the member name, the partitions it runs and the time. A worker that is killed
 * stops beating at once, long before Kubernetes marks its pod unready, so the operator can move
 * its partitions sooner, and a new owner knows not to wait for its release
 * (internal/operator/liveness.ts reads the beats).
 */
export function startHeartbeat(
  bus: Bus,
  member: string,
  partitions: () => ReadonlyMap<number, number>,
  everyMs: number,
  signal: AbortSignal,
): void {
  const subject = heartbeatSubject(member);
  const encoder = new TextEncoder();
  const beat = () => {
    const owned = [...partitions()].map(([partition, epoch]) => ({ partition, epoch }));
    bus.publish(subject, encoder.encode(JSON.stringify({ member, partitions: owned, time: Date.now() })));
  };
  beat();
  const timer = setInterval(beat, everyMs);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
