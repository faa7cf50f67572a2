import type { BusMessage, Subscription } from './bus.js';

/**
 * The bounded buffer behind a live subscription: the publisher side never waits; when full,
 * the oldest message is dropped and counted. Iterated once. Unsubscribing ends the iterator at
 * once and discards what is buffered: the subscriber has said it no longer wants live data.
 */
export class LiveBuffer implements Subscription {
  private readonly ring: (BusMessage | undefined)[];
  private head = 0;
  private size = 0;
  private waiter: ((r: IteratorResult<BusMessage>) => void) | undefined;
  private closed = false;
  dropped = 0;

  constructor(
    readonly subject: string,
    capacity: number,
    private readonly onClose: () => void,
    signal?: AbortSignal,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.ring = new Array(capacity);
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.unsubscribe());
      else signal.addEventListener('abort', () => this.unsubscribe(), { once: true });
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  push(msg: BusMessage): void {
    if (this.closed) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: msg, done: false });
      return;
    }
    const cap = this.ring.length;
    if (this.size === cap) {
      this.head = (this.head + 1) % cap;
      this.size -= 1;
      this.dropped += 1;
    }
    this.ring[(this.head + this.size) % cap] = msg;
    this.size += 1;
  }

  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring.fill(undefined);
    this.size = 0;
    this.onClose();
    const w = this.waiter;
    this.waiter = undefined;
    w?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<BusMessage> {
    return {
      next: () => {
        if (this.size > 0) {
          const msg = this.ring[this.head]!;
          this.ring[this.head] = undefined;
          this.head = (this.head + 1) % this.ring.length;
          this.size -= 1;
          return Promise.resolve({ value: msg, done: false });
        }
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiter = resolve;
        });
      },
      return: () => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
