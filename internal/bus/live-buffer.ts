import { BoundedQueue } from '../runtime/bounded-queue.js';
import type { BusMessage, Subscription } from './bus.js';

/**
 * The bounded buffer behind a live subscription: a BoundedQueue under the `drop-oldest` rule, so
 * the publisher side never waits and, when full, the oldest message is dropped and counted.
 * Iterated once. Unsubscribing ends the iterator at once and discards what is buffered: the
 * subscriber has said it no longer wants live data.
 *
 * Ending removes the listeners it put on its signals: a signal usually outlives the many
 * subscriptions made under it (a WebSocket connection's), and a listener left on it would keep
 * every ended subscription, and its buffer, reachable for as long as the signal lives.
 */
export class LiveBuffer implements Subscription {
  private readonly queue: BoundedQueue<BusMessage>;
  private readonly signals: readonly AbortSignal[];
  private readonly onAbort = (): void => this.unsubscribe();

  /** Ends on unsubscribe() or when any of `signals` aborts; `onClose` runs once when it ends. */
  constructor(
    readonly subject: string,
    capacity: number,
    private readonly onClose: () => void,
    signals: ReadonlyArray<AbortSignal | undefined> = [],
  ) {
    this.queue = new BoundedQueue(capacity, { overflow: 'drop-oldest' });
    this.signals = signals.filter((s) => s !== undefined);
    if (this.signals.some((s) => s.aborted)) {
      this.signals = [];
      queueMicrotask(this.onAbort);
    } else for (const s of this.signals) s.addEventListener('abort', this.onAbort, { once: true });
  }

  get isClosed(): boolean {
    return this.queue.isClosed;
  }

  get dropped(): number {
    return this.queue.dropped;
  }

  push(msg: BusMessage): void {
    if (!this.queue.isClosed) this.queue.tryPush(msg);
  }

  unsubscribe(): void {
    if (this.queue.isClosed) return;
    this.queue.close();
    this.queue.clear();
    for (const s of this.signals) s.removeEventListener('abort', this.onAbort);
    this.onClose();
  }

  [Symbol.asyncIterator](): AsyncIterator<BusMessage> {
    const it = this.queue[Symbol.asyncIterator]();
    return {
      next: () => it.next(),
      return: () => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
