import type { Interval } from '../market/interval.js';
import type { CandleContext, CandleWindow } from './candle-window.js';
import type { IndicatorConfig } from './config.js';
import { IndicatorState } from './indicators.js';
import type { IntervalWindows } from './interval-windows.js';
import type { IndicatorValues } from './output.js';
import type { StateReader, StateWriter } from './state-codec.js';

/**
 * One interval's indicators, kept right when a late trade revises a closed candle.
 *
 * Every indicator of a candle depends on that candle and the ones before it: SMA, volatility and
 * rolling VWAP on a window of them, EMA on all of them. So a revision of candle W changes the
 * indicators of W and of every later closed candle of its interval, and of none before it. All of
 * those are still held: a closed window leaves only once past the allowed lateness, oldest first,
 * so while W can be revised every later window is kept too.
 *
 * `state` is the state after every fed candle; `undo` holds, per held closed window fed, what
 * feeding it overwrote, oldest first. Undoing all of it gives the replay base: the state before
 * the oldest window still held. A revision undoes to the base and replays the held closed
 * windows from it, emitting the indicators of W and of every later one; a window that leaves
 * drops its entry (the base moves past it). One state and a few numbers per held window, where a
 * second whole state would double the indicators' memory. The base is in the checkpoint, so a
 * restored actor replays exactly what the original would have. Windows before `fedFrom` were
 * never fed (those a late trade created before the market's first closed window, and, after a
 * restore from a checkpoint older than version 4, those held when it was taken): their revisions
 * leave the indicators as they are.
 */
export class RevisableIndicators {
  private readonly state: IndicatorState;
  private undo: number[] = [];
  /** Start of the first window fed; NaN before the first in-order close. */
  private fedFrom = Number.NaN;

  constructor(
    private readonly interval: Interval,
    cfg: IndicatorConfig,
    intervalLenMs: number,
  ) {
    this.state = new IndicatorState(cfg, intervalLenMs);
  }

  /** A window closed in order: feeds it and returns its indicators. */
  closed(w: CandleWindow, ctx: CandleContext): IndicatorValues {
    if (Number.isNaN(this.fedFrom)) this.fedFrom = w.start;
    return this.state.update(w, ctx, this.interval, this.undo);
  }

  /**
   * A closed window changed: replays the held closed windows from the base and pushes the
   * indicators of `revised` and of every later closed window to `out`.
   */
  revised(revised: CandleWindow, held: readonly CandleWindow[], ctx: CandleContext, out: IndicatorValues[]): void {
    if (!(revised.start >= this.fedFrom)) return;
    const state = this.state;
    state.undo(this.undo);
    for (const w of held) {
      if (!w.closed) break;
      if (w.start < this.fedFrom) continue;
      const v = state.update(w, ctx, this.interval, this.undo);
      if (w.start >= revised.start) out.push(v);
    }
  }

  /** A closed window left (past the lateness): the base moves past it. */
  dropped(w: CandleWindow): void {
    if (w.start >= this.fedFrom) this.undo.splice(0, this.state.undoEntry);
  }

  rescalePrice(factor: number): void {
    this.state.rescalePrice(factor, this.undo);
  }

  /** The current state (every checkpoint version has it). */
  writeCurrent(w: StateWriter): void {
    this.state.writeState(w);
  }

  readCurrent(r: StateReader): void {
    this.state.readState(r);
  }

  /** What checkpoint version 4 added: the replay base (as a difference from the current state) and where feeding started. */
  writeBase(w: StateWriter): void {
    this.state.writeDiff(w, this.undo);
    w.time(this.fedFrom);
  }

  /**
   * After readCurrent() and the track's windows: the base, and the undo log rebuilt by feeding
   * the base the held closed windows (what the original's log holds, each update a function of
   * the state and the window alone). A base the held windows do not lead to the current state
   * from is treated as a checkpoint without one (startBaseAt).
   */
  readBase(r: StateReader, track: IntervalWindows, ctx: CandleContext): void {
    const base = this.state.readDiff(r);
    this.fedFrom = r.time();
    const undo: number[] = [];
    for (const w of track.windows) {
      if (!w.closed) break;
      if (w.start >= this.fedFrom) base.update(w, ctx, this.interval, undo);
    }
    if (base.seen === this.state.seen) this.undo = undo;
    else this.startBaseAt(track.nextClose, track.firstStart);
  }

  /**
   * After a restore from a checkpoint without the base: the held windows are already in the
   * current state and cannot be replayed; windows that close from `nextClose` on can (all of
   * them when none has closed: `firstStart` NaN).
   */
  startBaseAt(nextClose: number, firstStart: number): void {
    this.undo = [];
    this.fedFrom = Number.isNaN(firstStart) ? Number.NaN : nextClose;
  }
}
