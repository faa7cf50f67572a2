import {
  type Interval,
  intervalMs,
  isFixedLength,
  nominalMs,
  windowAfter,
  windowEnd,
  windowStart,
  windowsBetween,
} from '../market/interval.js';
import { CandleWindow, type ParsedTrade } from './candle-window.js';
import type { StateReader, StateWriter } from './state-codec.js';

/** Receives windows as they close or change after closing. */
export interface WindowListener {
  /**
   * A window closed for the first time (revision 0). `inOrder` is false only for windows before
   * the market's first closed window that a late trade brought into existence.
   */
  windowClosed(track: IntervalWindows, w: CandleWindow, inOrder: boolean): void;
  /** A closed window changed (its revision has been raised). */
  windowRevised(track: IntervalWindows, w: CandleWindow): void;
  /** A closed window left: past the lateness, nothing can change it any more. Oldest first. */
  windowDropped(track: IntervalWindows, w: CandleWindow): void;
}

/**
 * The windows of one interval of one market, oldest first: closed windows still within the
 * allowed lateness (every one of them, empty ones included), then open windows (only those
 * holding trades; empty open windows exist only once they close).
 *
 * Windows in [firstStart, nextClose) are closed and were emitted; windows from nextClose on
 * are open. A window closes when the watermark reaches its end and is dropped when the
 * watermark reaches end + allowed lateness.
 */
export class IntervalWindows {
  readonly interval: Interval;
  /**
   * The windows' length, or for 1M (calendar months) the mean month: window arithmetic goes
   * through startOf / endOf / after / count, exact for both.
   */
  readonly len: number;
  /** Whether every window is `len` long; the arithmetic is then inline (the per-trade path). */
  readonly fixed: boolean;
  readonly origin: number;
  readonly windows: CandleWindow[] = [];
  /** Start of the earliest window not closed yet; NaN before the first trade. */
  nextClose = Number.NaN;
  /** Start of the earliest window ever closed; NaN before the first close. */
  firstStart = Number.NaN;
  /** Close of the last closed window (scaled): the price of the next empty window. */
  lastClose = 0;
  private cur: CandleWindow | null = null;

  constructor(interval: Interval) {
    this.interval = interval;
    this.fixed = isFixedLength(interval);
    this.len = this.fixed ? intervalMs(interval) : nominalMs(interval);
    // 0 for every fixed interval but 1w, whose weeks open on Mondays (see market/interval.ts).
    this.origin = this.fixed ? ((windowStart(interval, 0) % this.len) + this.len) % this.len : 0;
  }

  startOf(t: number): number {
    if (!this.fixed) return windowStart(this.interval, t);
    return Math.floor((t - this.origin) / this.len) * this.len + this.origin;
  }

  /** The end (exclusive) of the window that opens at `s`: the next window's start. */
  endOf(s: number): number {
    return this.fixed ? s + this.len : windowEnd(this.interval, s);
  }

  /** The start of the window `n` windows after the one that opens at `s`. */
  after(s: number, n: number): number {
    return this.fixed ? s + n * this.len : windowAfter(this.interval, s, n);
  }

  /** Windows that open in [from, to), both window starts. */
  count(from: number, to: number): number {
    return this.fixed ? Math.max(0, Math.ceil((to - from) / this.len)) : windowsBetween(this.interval, from, to);
  }

  /**
   * Adds the trade to its window. The caller has checked that the window is within the allowed
   * lateness (start + len + lateness > watermark). Returns true when a closed window changed or
   * a closed window was created (the trade was late), false when it went to an open window.
   */
  add(t: ParsedTrade, listener: WindowListener): boolean {
    const c = this.cur;
    if (c !== null && t.time >= c.start && t.time < c.end && !c.closed) {
      c.add(t);
      return false;
    }
    const s = this.startOf(t.time);
    if (!(s < this.nextClose)) {
      if (Number.isNaN(this.nextClose)) this.nextClose = s;
      this.openWindow(s).add(t);
      return false;
    }
    if (Number.isNaN(this.firstStart)) {
      // Nothing has closed yet: the window is simply the new earliest open one.
      this.nextClose = s;
      this.openWindow(s).add(t);
      return false;
    }
    if (s >= this.firstStart) {
      this.revise(s, t, listener);
      return true;
    }
    this.prepend(s, t, listener);
    return true;
  }

  /**
   * Folds a closed window of a finer interval (whose windows nest in this one's) into the open
   * window that contains it. Finer windows close before the coarser window that holds them, so
   * the target is never closed.
   */
  fold(src: CandleWindow): void {
    const s = this.startOf(src.start);
    if (s < this.nextClose) {
      if (!Number.isNaN(this.firstStart)) throw new Error(`fold into closed window ${s} of ${this.interval}`);
      this.nextClose = s;
    } else if (Number.isNaN(this.nextClose)) {
      this.nextClose = s;
    }
    this.openWindow(s).merge(src);
  }

  /** The window that starts at `s`, if kept. */
  windowAt(s: number): CandleWindow | undefined {
    const i = this.find(s);
    return i < 0 ? undefined : this.windows[i];
  }

  /**
   * Closes every window whose end the watermark has reached, then drops those past the lateness.
   * A run of more than `emptyLimit` empty windows (a watermark far ahead of the last trade) is
   * cut to its last `emptyLimit`, skipping only windows already past the lateness; returns the
   * number skipped. `cutAs` (at least `watermark`): the cut is the one a step to `cutAs` would
   * make, so closing up to `watermark` now and up to `cutAs` later closes the same windows as
   * one step to `cutAs`.
   */
  closeUntil(
    watermark: number,
    lateness: number,
    listener: WindowListener,
    emptyLimit = Number.POSITIVE_INFINITY,
    cutAs = watermark,
  ): number {
    if (Number.isNaN(this.nextClose)) return 0;
    const windows = this.windows;
    let skipped = 0;
    let k = 0;
    while (k < windows.length && (windows[k] as CandleWindow).closed) k++;
    while (this.endOf(this.nextClose) <= watermark) {
      const s = this.nextClose;
      let w = windows[k];
      if (w === undefined || w.start !== s) {
        // The run of empty windows from s: up to the next kept window, and those ending by cutAs.
        const runEnd = Math.min(w === undefined ? Number.POSITIVE_INFINITY : w.start, this.lastEndingBy(s, cutAs));
        const run = this.count(s, runEnd);
        if (run > emptyLimit) {
          const droppable = this.count(s, Math.min(runEnd, this.lastEndingBy(s, cutAs - lateness)));
          const skip = Math.min(run - emptyLimit, droppable);
          if (skip > 0) {
            this.nextClose = this.after(s, skip);
            skipped += skip;
            continue;
          }
        }
        w = new CandleWindow(s, this.endOf(s));
        windows.splice(k, 0, w);
      }
      if (w.count === 0) w.setFlat(this.lastClose);
      w.closed = true;
      w.dirty = false;
      if (Number.isNaN(this.firstStart)) this.firstStart = s;
      this.lastClose = w.close;
      this.nextClose = w.end;
      listener.windowClosed(this, w, true);
      k++;
      // Long silences close many empty windows: drop them as we go so memory stays bounded.
      while (k > 0 && (windows[0] as CandleWindow).end + lateness <= watermark) {
        this.drop(listener);
        k--;
      }
    }
    while (
      windows.length > 0 &&
      (windows[0] as CandleWindow).closed &&
      (windows[0] as CandleWindow).end + lateness <= watermark
    ) {
      this.drop(listener);
    }
    return skipped;
  }

  /** Windows that hold trades and have not closed. */
  *openWindows(): IterableIterator<CandleWindow> {
    for (const w of this.windows) if (!w.closed) yield w;
  }

  /** The windows and their bookkeeping, for the actor's checkpoint. */
  writeState(w: StateWriter): void {
    w.time(this.nextClose);
    w.time(this.firstStart);
    w.uint(this.lastClose);
    w.uint(this.windows.length);
    for (const win of this.windows) win.writeState(w);
  }

  /** Restores writeState() bytes into this fresh (windowless) instance. */
  readState(r: StateReader): void {
    this.nextClose = r.time();
    this.firstStart = r.time();
    this.lastClose = r.uint();
    const n = r.uint();
    for (let k = 0; k < n; k++) this.windows.push(CandleWindow.readState(r, (start) => this.endOf(start)));
  }

  /**
   * The start of the first window from `s` on that does not end by `t`: windows in [s, that)
   * all end at or before `t`. `s` is a window start.
   */
  private lastEndingBy(s: number, t: number): number {
    if (!Number.isFinite(t)) return t;
    if (this.fixed) return s + Math.max(0, Math.floor((t - s) / this.len)) * this.len;
    if (t <= s) return s;
    const last = this.startOf(t);
    // The window holding t ends after t unless t is its start.
    return last === t ? t : Math.max(s, last);
  }

  private drop(listener: WindowListener): void {
    const w = this.windows.shift() as CandleWindow;
    if (w === this.cur) this.cur = null;
    listener.windowDropped(this, w);
  }

  private openWindow(s: number): CandleWindow {
    const windows = this.windows;
    let i = windows.length - 1;
    while (i >= 0 && (windows[i] as CandleWindow).start > s) i--;
    let w = windows[i];
    if (w === undefined || w.start !== s) {
      w = new CandleWindow(s, this.endOf(s));
      windows.splice(i + 1, 0, w);
    }
    this.cur = w;
    return w;
  }

  private find(s: number): number {
    const windows = this.windows;
    for (let i = windows.length - 1; i >= 0; i--) {
      const start = (windows[i] as CandleWindow).start;
      if (start === s) return i;
      if (start < s) break;
    }
    return -1;
  }

  private revise(s: number, t: ParsedTrade, listener: WindowListener): void {
    const i = this.find(s);
    const w = this.windows[i];
    // The caller's lateness check guarantees the window is retained; anything else is a bug.
    if (w === undefined || !w.closed) throw new Error(`closed window ${s} of ${this.interval} is not retained`);
    const before = w.close;
    w.add(t);
    w.dirty = false;
    w.revision++;
    listener.windowRevised(this, w);
    if (w.close !== before) this.cascade(i, listener);
  }

  /** Empty windows after index i carry its close: re-price and revise them. */
  private cascade(i: number, listener: WindowListener): void {
    const windows = this.windows;
    let prev = windows[i] as CandleWindow;
    for (let j = i + 1; j < windows.length; j++) {
      const w = windows[j] as CandleWindow;
      if (!w.closed || w.count !== 0 || w.close === prev.close) break;
      w.setFlat(prev.close);
      w.revision++;
      listener.windowRevised(this, w);
      prev = w;
    }
    if (prev.end === this.nextClose) this.lastClose = prev.close;
  }

  /**
   * A trade before the market's first closed window, late: the windows from its own up to the
   * first closed one are created closed (empty ones at its close) and emitted as revision 0.
   */
  private prepend(s: number, t: ParsedTrade, listener: WindowListener): void {
    const created: CandleWindow[] = [];
    let prev: CandleWindow | undefined;
    for (let start = s; start < this.firstStart; start = this.endOf(start)) {
      const w = new CandleWindow(start, this.endOf(start));
      if (prev === undefined) w.add(t);
      else w.setFlat(prev.close);
      w.closed = true;
      w.dirty = false;
      created.push(w);
      prev = w;
    }
    this.windows.unshift(...created);
    this.firstStart = s;
    for (const w of created) listener.windowClosed(this, w, false);
  }
}
