import { BoundedQueue } from '../runtime/bounded-queue.js';
import type { FeedEvent } from './feed.js';

const weigh = (ev: FeedEvent): number => (ev.kind === 'frame' ? ev.data.length : 0);

/**
 * The bounded queue between a feed's socket and its consumer: a BoundedQueue under the `pause`
 * rule, bounded by `capacity` events and `maxBytes` of frame text. `push` never blocks (a socket
 * cannot wait); reaching either bound pauses the socket. The consumer takes everything queued at
 * once (`take`), which resumes the socket: one wake-up per socket read instead of a promise and a
 * microtask per frame.
 *
 * Bound: what is queued stays under `maxBytes` plus one message (the one that crossed it), and
 * the batch in hand under as much again, plus what a paused socket still delivers from its
 * buffers. Frame text is counted in UTF-16 code units, which is bytes for the ASCII venues send.
 */
export class FrameQueue {
  private readonly queue: BoundedQueue<FeedEvent>;

  constructor(capacity: number, maxBytes: number, onPause: (paused: boolean) => void) {
    this.queue = new BoundedQueue(capacity, { overflow: 'pause', weigh, maxWeight: maxBytes, onPause });
  }

  get size(): number {
    return this.queue.size;
  }

  /** Frame text queued, in UTF-16 code units. */
  get bytes(): number {
    return this.queue.weight;
  }

  get paused(): boolean {
    return this.queue.paused;
  }

  /** Queues the event; after close() (the consumer has gone) it is dropped. */
  push(ev: FeedEvent): void {
    if (!this.queue.isClosed) this.queue.tryPush(ev);
  }

  close(): void {
    this.queue.close();
  }

  /** Every event queued, in order (at least one), once there is one; undefined once closed and empty. */
  take(): Promise<FeedEvent[] | undefined> {
    return this.queue.takeAll();
  }

  /** Drops what is queued and ends the consumer's iteration. */
  discard(): void {
    this.queue.close();
    this.queue.clear();
  }
}
