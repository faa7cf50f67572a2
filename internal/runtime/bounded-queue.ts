/**
 * The one bounded FIFO between a producer and a single consumer. What a push into a full queue
 * does is the queue's overflow rule:
 *
 * - `wait` (default): `tryPush` refuses (false), `push` waits for room, so a slow consumer slows
 *   the producer instead of growing memory (the worker's mailbox, the Kafka consumer's hand-off);
 * - `drop-oldest`: the push never waits; the oldest items go to make room and are counted in
 *   `dropped` (a live subscription, where only the newest data is worth having);
 * - `pause`: the push never waits and is accepted; the queue calls `onPause(true)` when it fills
 *   and `onPause(false)` once the consumer has emptied it, for a producer that cannot refuse an
 *   item but can stop its source (a socket). The queue then holds at most the bound plus what
 *   the source delivers after it was told to stop.
 *
 * Full means `capacity` items or, with `weigh`, `maxWeight` of total weight (the bytes of frame
 * text, say). A consumer waiting on an empty queue gets the next item handed straight to it.
 * Closing wakes every waiter: pending pushes reject with QueueClosedError, the consumer gets what
 * is queued and then the end; `clear()` drops what is queued (a consumer that no longer wants it).
 * Items must not be undefined (it marks the end for `shift`).
 */
export class QueueClosedError extends Error {
  constructor() {
    super('queue closed');
    this.name = 'QueueClosedError';
  }
}

export type Overflow = 'wait' | 'drop-oldest' | 'pause';

export interface BoundedQueueOptions<T> {
  readonly overflow?: Overflow;
  /** Weight of an item (its bytes, say), for the second bound `maxWeight`. */
  readonly weigh?: (item: T) => number;
  readonly maxWeight?: number;
  /** `pause` only: told true when the queue fills, false once the consumer has emptied it. */
  readonly onPause?: (paused: boolean) => void;
}

type PopWaiter<T> = (r: IteratorResult<T, undefined>) => void;

const DONE: IteratorResult<never, undefined> = { value: undefined, done: true };

export class BoundedQueue<T> implements AsyncIterable<T> {
  readonly capacity: number;
  readonly overflow: Overflow;
  private readonly weigh: ((item: T) => number) | undefined;
  private readonly maxWeight: number;
  private readonly onPause: ((paused: boolean) => void) | undefined;
  /** A ring that grows (doubling) up to what the queue holds. */
  private ring: (T | undefined)[] = new Array(4);
  private head = 0;
  private count = 0;
  private weightNow = 0;
  private closed = false;
  private pausedNow = false;
  private droppedNow = 0;
  private readonly pushWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private popWaiter: PopWaiter<T> | undefined;
  /** A takeAll() waiting for the queue to be non-empty. */
  private batchWaiter: (() => void) | undefined;

  constructor(capacity: number, options: BoundedQueueOptions<T> = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer`);
    this.capacity = capacity;
    this.overflow = options.overflow ?? 'wait';
    this.weigh = options.weigh;
    this.maxWeight = options.maxWeight ?? Number.POSITIVE_INFINITY;
    this.onPause = options.onPause;
  }

  get size(): number {
    return this.count;
  }

  /** Total weight queued (0 without `weigh`). */
  get weight(): number {
    return this.weightNow;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** `pause` only: the producer has been told to stop its source. */
  get paused(): boolean {
    return this.pausedNow;
  }

  /** Items the `drop-oldest` rule dropped. */
  get dropped(): number {
    return this.droppedNow;
  }

  private get full(): boolean {
    return this.count >= this.capacity || this.weightNow >= this.maxWeight;
  }

  /** Queues the item unless the queue is full under the `wait` rule (false); throws once closed. */
  tryPush(item: T): boolean {
    if (this.closed) throw new QueueClosedError();
    if (this.popWaiter) {
      const w = this.popWaiter;
      this.popWaiter = undefined;
      w({ value: item, done: false });
      return true;
    }
    if (this.full) {
      if (this.overflow === 'wait') return false;
      if (this.overflow === 'drop-oldest') {
        while (this.count > 0 && this.full) {
          this.removeHead();
          this.droppedNow += 1;
        }
      }
    }
    this.append(item);
    if (this.batchWaiter) {
      const w = this.batchWaiter;
      this.batchWaiter = undefined;
      w();
    }
    if (this.overflow === 'pause' && !this.pausedNow && this.full) {
      this.pausedNow = true;
      this.onPause?.(true);
    }
    return true;
  }

  /** Queues the item, waiting for room under the `wait` rule; rejects on close or when `signal` aborts. */
  async push(item: T, signal?: AbortSignal): Promise<void> {
    while (!this.tryPush(item)) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const i = this.pushWaiters.indexOf(waiter);
          if (i >= 0) this.pushWaiters.splice(i, 1);
          reject(signal?.reason);
        };
        // The listener goes when the wait ends: a long-lived signal must not collect one per wait.
        const waiter = {
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          reject: (e: Error) => {
            signal?.removeEventListener('abort', onAbort);
            reject(e);
          },
        };
        this.pushWaiters.push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** The next item without waiting, or undefined when empty. */
  tryShift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.removeHead();
    this.afterTake(1);
    return item;
  }

  /** The next item once there is one; undefined once closed and empty, or when `signal` aborts. */
  shift(signal?: AbortSignal): Promise<T | undefined> {
    if (this.count > 0) return Promise.resolve(this.tryShift());
    if (this.closed || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        if (this.popWaiter === waiter) this.popWaiter = undefined;
        resolve(undefined);
      };
      const waiter: PopWaiter<T> = (r) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(r.value);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.popWaiter = waiter;
    });
  }

  /** Everything queued, in order (at least one item), once there is one; undefined once closed and empty. */
  async takeAll(): Promise<T[] | undefined> {
    while (this.count === 0) {
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => {
        this.batchWaiter = resolve;
      });
    }
    const batch: T[] = new Array(this.count);
    for (let i = 0; i < batch.length; i++) batch[i] = this.removeHead();
    this.afterTake(batch.length);
    return batch;
  }

  /** Ends the queue: waiting pushes reject, the consumer gets what is queued, then the end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.pushWaiters.splice(0)) w.reject(new QueueClosedError());
    if (this.count === 0) this.wakeConsumerAtEnd();
  }

  /** Drops everything queued (not counted in `dropped`). */
  clear(): void {
    this.ring = new Array(4);
    this.head = 0;
    this.count = 0;
    this.weightNow = 0;
    if (this.closed) this.wakeConsumerAtEnd();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.count > 0) return Promise.resolve({ value: this.tryShift() as T, done: false });
        if (this.closed) return Promise.resolve(DONE);
        return new Promise((resolve) => {
          this.popWaiter = resolve;
        });
      },
      return: () => {
        this.close();
        return Promise.resolve(DONE);
      },
    };
  }

  private wakeConsumerAtEnd(): void {
    const p = this.popWaiter;
    this.popWaiter = undefined;
    p?.(DONE);
    const b = this.batchWaiter;
    this.batchWaiter = undefined;
    b?.();
  }

  private append(item: T): void {
    let ring = this.ring;
    if (this.count === ring.length) {
      const grown: (T | undefined)[] = new Array(ring.length * 2);
      for (let i = 0; i < this.count; i++) grown[i] = ring[(this.head + i) % ring.length];
      this.ring = ring = grown;
      this.head = 0;
    }
    ring[(this.head + this.count) % ring.length] = item;
    this.count += 1;
    if (this.weigh) this.weightNow += this.weigh(item);
  }

  private removeHead(): T {
    const ring = this.ring;
    const item = ring[this.head] as T;
    ring[this.head] = undefined;
    this.head = (this.head + 1) % ring.length;
    this.count -= 1;
    if (this.weigh) this.weightNow = this.count === 0 ? 0 : this.weightNow - this.weigh(item);
    return item;
  }

  /** `n` items were taken: as many waiting pushes may go on; a paused source resumes once the queue is empty. */
  private afterTake(n: number): void {
    for (let i = 0; i < n && this.pushWaiters.length > 0; i++) this.pushWaiters.shift()?.resolve();
    if (this.pausedNow && this.count === 0) {
      this.pausedNow = false;
      this.onPause?.(false);
    }
  }
}
