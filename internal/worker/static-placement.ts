import type { Store } from '../sink/store.js';
import type { Worker } from './worker.js';

/**
 * Placement from configuration, for a single worker (embedded mode, or before an operator
 * runs): each partition is claimed one epoch above its last checkpoint's, so a restarted
 * worker fences any earlier incarnation of itself that is still alive. Two workers given the
 * same partitions this way would take the partition from each other on every restart: with
 * more than one worker, placement comes from the operator.
 */
export async function assignStatic(worker: Worker, store: Store, topic: string, partitions: readonly number[]) {
  for (const p of partitions) {
    const checkpoint = await store.loadCheckpoint(topic, p);
    await worker.assign(p, (checkpoint?.epoch ?? 0) + 1);
  }
}
