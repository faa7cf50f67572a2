import type { FeedEvent } from './feed.js';

/**
 * The bounded queue between a feed's socket and its consumer. `push` never blocks (a socket
 * cannot wait); reaching either bound, `capacity` events or `maxBytes` of frame text, pauses the
 * socket. The consumer takes everything queued at once (`take`), which resumes the socket: one
 * wake-up per socket read instead of a promise and a microtask per frame.
 *
 * Bound: what is queued stays under `maxBytes` plus one message (the one that crossed it), and
 * the batch in hand under as much again, plus what a paused socket still delivers from its
 * buffers. Frame text is counted in UTF-16 code units, which is bytes for the ASCII venues send.
 */
export class FrameQueue {
  private items: FeedEvent[] = [];
  private bytesNow = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  paused = false;

  constructor(
    private readonly capacity: number,
    private readonly maxBytes: number,
    private readonly onPause: (paused: boolean) => void,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Frame text queued, in UTF-16 code units. */
  get bytes(): number {
    return this.bytesNow;
  }

  push(ev: FeedEvent): void {
    if (this.closed) return;
    this.items.push(ev);
    if (ev.kind === 'frame') this.bytesNow += ev.data.length;
    if (this.wake) {
      const w = this.wake;
      this.wake = undefined;
      w();
    }
    if (!this.paused && (this.items.length >= this.capacity || this.bytesNow >= this.maxBytes)) {
      this.paused = true;
      this.onPause(true);
    }
  }

  close(): void {
    this.closed = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Every event queued, in order (at least one), once there is one; undefined once closed and empty. */
  async take(): Promise<FeedEvent[] | undefined> {
    while (this.items.length === 0) {
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    const batch = this.items;
    this.items = [];
    this.bytesNow = 0;
    if (this.paused) {
      this.paused = false;
      this.onPause(false);
    }
    return batch;
  }

  /** Drops what is queued and ends the consumer's iteration. */
  discard(): void {
    this.close();
    this.items = [];
    this.bytesNow = 0;
  }
}
