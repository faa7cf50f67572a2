import type { Candle } from '../market/candle.js';
import type { Interval } from '../market/interval.js';
import { type CandleVerdict, compareCandle, type GapWindow } from './compare.js';
import type { VenueConvention } from './conventions.js';
import type { VenueKline } from './kline.js';
import type { KlinePush } from './kline-push.js';

export interface ReconcilerOptions {
  readonly convention: VenueConvention;
  /**
   * For a venue that does not mark its last push of a window (Coinbase, Kraken): how long after
   * the window's end its latest push is taken as final.
   */
  readonly settleMs: number;
  /** How long after tickmesh closed a candle the venue's final kline may take before `unverifiable`. */
  readonly waitMs: number;
  /** Windows held per market and interval, judged or waiting; the oldest go first. */
  readonly maxWindows: number;
}

/** A judgement of one candle revision, emitted when it is first made and whenever it changes. */
export interface Reconciliation {
  readonly market: string;
  readonly interval: Interval;
  readonly openTime: number;
  readonly revision: number;
  readonly verdict: CandleVerdict;
}

interface Window {
  ours?: Candle;
  /** When tickmesh's candle (or its latest revision) arrived. */
  oursAt?: number;
  theirs?: VenueKline;
  theirsFinal?: boolean;
  /** The status last emitted for `ours`' revision, so a repeat is not emitted twice. */
  emitted?: string;
}

/**
 * The live reconciler's pure core for one venue: tickmesh's closed candles on one side, the
 * venue's kline pushes on the other, each window judged by compareCandle (the function
 * `tickmesh verify` uses) once both are final, or `unverifiable` when the venue's kline does not
 * come within `waitMs`. A revision of a candle, or a venue push that changes a final kline
 * (a venue's own correction), judges the window again. Time comes in as arguments: no clock,
 * no I/O.
 */
export class Reconciler {
  private readonly series = new Map<string, Map<number, Window>>();
  /** Pushes for windows older than every window held: too late to judge, counted. */
  dropped = 0;

  constructor(private readonly options: ReconcilerOptions) {
    if (!(options.maxWindows >= 2)) throw new RangeError('maxWindows must be at least 2');
  }

  /** A closed candle of tickmesh's (revision 0 or later); `gaps` are the market's known gaps. */
  candle(candle: Candle, now: number, gaps: readonly GapWindow[] = []): Reconciliation[] {
    if (!candle.closed) return [];
    const w = this.window(candle.market, candle.interval, candle.openTime);
    if (w === undefined) return [];
    if (w.ours !== undefined && w.ours.revision > candle.revision) return [];
    w.ours = candle;
    w.oursAt = now;
    return this.judge(candle.market, candle.interval, candle.openTime, w, now, gaps);
  }

  /** A kline the venue pushed. */
  push(p: KlinePush, now: number): Reconciliation[] {
    const w = this.window(p.market, p.interval, p.kline.openTime);
    if (w === undefined) return [];
    if (w.theirsFinal === true && p.final === false) return [];
    w.theirs = p.kline;
    w.theirsFinal = p.final;
    return this.judge(p.market, p.interval, p.kline.openTime, w, now, []);
  }

  /** Judges what time alone decides: settled klines, and candles whose kline never came. */
  tick(now: number): Reconciliation[] {
    const out: Reconciliation[] = [];
    for (const [key, windows] of this.series) {
      const [market, interval] = splitKey(key);
      for (const [openTime, w] of windows) out.push(...this.judge(market, interval, openTime, w, now, []));
    }
    return out;
  }

  /** Forgets a market (evicted or moved away). */
  forget(market: string): void {
    for (const key of this.series.keys()) if (splitKey(key)[0] === market) this.series.delete(key);
  }

  private window(market: string, interval: Interval, openTime: number): Window | undefined {
    const key = `${market}\u0000${interval}`;
    let windows = this.series.get(key);
    if (windows === undefined) {
      windows = new Map();
      this.series.set(key, windows);
    }
    let w = windows.get(openTime);
    if (w !== undefined) return w;
    if (windows.size >= this.options.maxWindows) {
      const oldest = Math.min(...windows.keys());
      if (openTime < oldest) {
        this.dropped++;
        return undefined;
      }
      windows.delete(oldest);
    }
    w = {};
    windows.set(openTime, w);
    return w;
  }

  private judge(
    market: string,
    interval: Interval,
    openTime: number,
    w: Window,
    now: number,
    gaps: readonly GapWindow[],
  ): Reconciliation[] {
    const ours = w.ours;
    if (ours === undefined || w.oursAt === undefined) return [];
    const settled =
      w.theirsFinal === true || (w.theirsFinal === undefined && now >= ours.closeTime + 1 + this.options.settleMs);
    let verdict: CandleVerdict;
    if (w.theirs !== undefined && settled) {
      const previous = this.series
        .get(`${market}\u0000${interval}`)
        ?.get(openTime - (ours.closeTime + 1 - openTime))?.ours;
      verdict = compareCandle(ours, w.theirs, this.options.convention, gaps, previous);
    } else if (now >= w.oursAt + this.options.waitMs) {
      verdict = compareCandle(ours, undefined, this.options.convention, gaps);
    } else {
      return [];
    }
    const mark = `${ours.revision}:${verdict.status}:${verdict.status === 'mismatch' ? JSON.stringify(verdict.differences) : ''}`;
    if (w.emitted === mark) return [];
    w.emitted = mark;
    return [{ market, interval, openTime, revision: ours.revision, verdict }];
  }
}

function splitKey(key: string): [string, Interval] {
  const at = key.indexOf('\u0000');
  return [key.slice(0, at), key.slice(at + 1) as Interval];
}
