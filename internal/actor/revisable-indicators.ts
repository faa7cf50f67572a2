import type { Interval } from '../market/interval.js';
import type { CandleContext, CandleWindow } from './candle-window.js';
import type { IndicatorConfig } from './config.js';
import { IndicatorState } from './indicators.js';
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
 * `current` is the state after every fed candle; `base` the state before the oldest one still
 * held. A revision replays the held closed windows from `base` and emits the indicators of W and
 * of every later one; a window that leaves is folded into `base`. Both are in the checkpoint, so
 * a restored actor replays exactly what the original would have. Windows before `fedFrom` were
 * never fed (those a late trade created before the market's first closed window, and, after a
 * restore from a checkpoint older than version 4, those held when it was taken): their revisions
 * leave the indicators as they are.
 */
export class RevisableIndicators {
  private current: IndicatorState;
  private base: IndicatorState;
  /** Start of the first window fed; NaN before the first in-order close. */
  private fedFrom = Number.NaN;

  constructor(
    private readonly interval: Interval,
    cfg: IndicatorConfig,
    intervalLenMs: number,
  ) {
    this.current = new IndicatorState(cfg, intervalLenMs);
    this.base = this.current.clone();
  }

  /** A window closed in order: feeds it and returns its indicators. */
  closed(w: CandleWindow, ctx: CandleContext): IndicatorValues {
    if (Number.isNaN(this.fedFrom)) this.fedFrom = w.start;
    return this.current.update(w, ctx, this.interval);
  }

  /**
   * A closed window changed: replays the held closed windows from `base` and pushes the indicators
   * of `revised` and of every later closed window to `out`.
   */
  revised(revised: CandleWindow, held: readonly CandleWindow[], ctx: CandleContext, out: IndicatorValues[]): void {
    if (!(revised.start >= this.fedFrom)) return;
    const state = this.base.clone();
    for (const w of held) {
      if (!w.closed) break;
      if (w.start < this.fedFrom) continue;
      const v = state.update(w, ctx, this.interval);
      if (w.start >= revised.start) out.push(v);
    }
    this.current = state;
  }

  /** A closed window left (past the lateness): folds it into `base`. */
  dropped(w: CandleWindow, ctx: CandleContext): void {
    if (w.start >= this.fedFrom) this.base.update(w, ctx, this.interval);
  }

  rescalePrice(factor: number): void {
    this.current.rescalePrice(factor);
    this.base.rescalePrice(factor);
  }

  /** The current state (every checkpoint version has it). */
  writeCurrent(w: StateWriter): void {
    this.current.writeState(w);
  }

  readCurrent(r: StateReader): void {
    this.current.readState(r);
  }

  /** What checkpoint version 4 added: the replay base (as a difference from the current state) and where feeding started. */
  writeBase(w: StateWriter): void {
    this.current.writeDiff(w, this.base);
    w.time(this.fedFrom);
  }

  /** After readCurrent(). */
  readBase(r: StateReader): void {
    this.base = this.current.readDiff(r);
    this.fedFrom = r.time();
  }

  /**
   * After a restore from a checkpoint without the base: the held windows are already in the
   * current state and cannot be replayed; windows that close from `nextClose` on can (all of
   * them when none has closed: `firstStart` NaN).
   */
  startBaseAt(nextClose: number, firstStart: number): void {
    this.base = this.current.clone();
    this.fedFrom = Number.isNaN(firstStart) ? Number.NaN : nextClose;
  }
}
