/**
 * A bounded FIFO between one producer side and one consumer side. `push` resolves only when
 * there is room, so a slow consumer slows the producer instead of growing memory. `tryPush`
 * never waits (returns false when full) for callers that pause their source instead.
 *
 * Closing wakes every waiter: pending pushes reject with QueueClosedError, and the iterator
 * ends once the queued items are drained.
 */
export class QueueClosedError extends Error {
  constructor() {
    super('queue closed');
    this.name = 'QueueClosedError';
  }
}

export class BoundedQueue<T> implements AsyncIterable<T> {
  readonly capacity: number;
  private readonly items: T[] = [];
  private head = 0;
  private closed = false;
  private readonly pushWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private popWaiter: ((r: IteratorResult<T>) => void) | undefined;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  tryPush(item: T): boolean {
    if (this.closed) throw new QueueClosedError();
    if (this.popWaiter) {
      const w = this.popWaiter;
      this.popWaiter = undefined;
      w({ value: item, done: false });
      return true;
    }
    if (this.size >= this.capacity) return false;
    this.items.push(item);
    return true;
  }

  async push(item: T, signal?: AbortSignal): Promise<void> {
    while (!this.tryPush(item)) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const waiter = { resolve, reject };
        this.pushWaiters.push(waiter);
        signal?.addEventListener(
          'abort',
          () => {
            const i = this.pushWaiters.indexOf(waiter);
            if (i >= 0) this.pushWaiters.splice(i, 1);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    }
  }

  /** The next item without waiting, or undefined when empty. */
  tryShift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined as T;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    this.pushWaiters.shift()?.resolve();
    return item;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.pushWaiters.splice(0)) w.reject(new QueueClosedError());
    if (this.size === 0 && this.popWaiter) {
      const w = this.popWaiter;
      this.popWaiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.size > 0) return Promise.resolve({ value: this.tryShift() as T, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.popWaiter = resolve;
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
