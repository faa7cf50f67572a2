import type { BusMessage, Subscription } from './bus.js';

/**
 * The bounded buffer behind a live subscription: the publisher side never waits; when full,
 * the oldest message is dropped and counted. Iterated once. Unsubscribing ends the iterator at
 * once and discards what is buffered: the subscriber has said it no longer wants live data.
 *
 * Ending removes the listeners it put on its signals: a signal usually outlives the many
 * subscriptions made under it (a WebSocket connection's), and a listener left on it would keep
 * every ended subscription, and its buffer, reachable for as long as the signal lives.
 */
export class LiveBuffer implements Subscription {
  private readonly ring: (BusMessage | undefined)[];
  private head = 0;
  private size = 0;
  private waiter: ((r: IteratorResult<BusMessage>) => void) | undefined;
  private closed = false;
  private readonly signals: readonly AbortSignal[];
  private readonly onAbort = (): void => this.unsubscribe();
  dropped = 0;

  /** Ends on unsubscribe() or when any of `signals` aborts; `onClose` runs once when it ends. */
  constructor(
    readonly subject: string,
    capacity: number,
    private readonly onClose: () => void,
    signals: ReadonlyArray<AbortSignal | undefined> = [],
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.ring = new Array(capacity);
    this.signals = signals.filter((s) => s !== undefined);
    if (this.signals.some((s) => s.aborted)) {
      this.signals = [];
      queueMicrotask(this.onAbort);
    } else for (const s of this.signals) s.addEventListener('abort', this.onAbort, { once: true });
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
    for (const s of this.signals) s.removeEventListener('abort', this.onAbort);
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
