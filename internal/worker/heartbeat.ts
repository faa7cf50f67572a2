import type { Bus } from '../bus/bus.js';
import { subjectToken } from '../bus/subject.js';

/** `tickmesh.worker.alive.<member>`: a worker's liveness beacon, for the operator's fast failure detection. */
export function heartbeatSubject(member: string): string {
  return `tickmesh.worker.alive.${subjectToken(member)}`;
}

/**
 * Publishes this worker's liveness every `everyMs` until `signal` aborts: the member name, the
 * partitions it runs and the time. A worker that is killed stops beating at once, long before
 * Kubernetes marks its pod unready, so the operator can move its partitions sooner.
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
