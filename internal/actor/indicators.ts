import type { Interval } from '../market/interval.js';
import { ConfigError } from '../runtime/errors.js';
import { BUY_VOLUME, type CandleContext, type CandleWindow, QUOTE, VOLUME } from './candle-window.js';
import type { IndicatorConfig } from './config.js';
import { POW10, realRatio, wideToReal } from './decimal.js';
import { doubles } from './doubles.js';
import type { IndicatorValues } from './output.js';
import type { StateReader, StateWriter } from './state-codec.js';

const YEAR_MS = 365 * 86_400_000;

/**
 * Indicators of one market and interval over its closed candles (revision 0, empty ones
 * included: an empty candle repeats the previous close, a zero return).
 *
 * SMA sums the exact scaled closes and divides once, so it never drifts. EMA, volatility and
 * rolling VWAP are IEEE doubles computed in a fixed order from the same inputs, so a restored
 * actor reproduces them bit for bit. Every statistic is computed from ratios of integers at
 * one scale, so it does not depend on the scale the actor happens to hold.
 */
export class IndicatorState {
  private readonly cfg: IndicatorConfig;
  /**
   * The whole state in one array of doubles (doubles.ts): the ring of
   * scaled closes (`ring` long, enough for the longest SMA and the volatility look-back), the
   * rings of quote volume and of volume (`vwap` long, doubles in real units, for the rolling
   * VWAP), then the EMA per configured period (NaN until seeded).
   */
  private readonly s: number[];
  private readonly ring: number;
  private readonly vwap: number;
  /** Offset of the EMAs in `s`. */
  private readonly emaAt: number;
  /** Candles seen. */
  private count = 0;
  private readonly periodsPerYear: number;

  constructor(
    cfg: IndicatorConfig,
    private readonly intervalLenMs: number,
  ) {
    this.cfg = cfg;
    this.ring = Math.max(1, ...cfg.smaPeriods, ...cfg.emaPeriods, cfg.volatilityPeriod + 1);
    this.vwap = cfg.vwapPeriod;
    this.emaAt = this.ring + 2 * this.vwap;
    this.s = doubles(this.emaAt + cfg.emaPeriods.length, 0);
    for (let i = this.emaAt; i < this.s.length; i++) this.s[i] = Number.NaN;
    this.periodsPerYear = YEAR_MS / intervalLenMs;
  }

  /** Numbers update() appends to an undo log per candle. */
  get undoEntry(): number {
    return 3 + this.cfg.emaPeriods.length;
  }

  /**
   * Feeds a closed candle and returns the indicators as of its close. With `undo`, first appends
   * what the candle overwrites (its ring slots and the EMAs before it): undo() takes it back.
   */
  update(w: CandleWindow, ctx: CandleContext, interval: Interval, undo?: number[]): IndicatorValues {
    const ps = ctx.priceScale;
    const qs = ps + ctx.sizeScale;
    const n = this.count;
    const s = this.s;
    const ci = n % this.ring;
    const qi = this.ring + (n % this.vwap);
    const vi = qi + this.vwap;
    const emaAt = this.emaAt;
    if (undo !== undefined) {
      undo.push(s[ci] as number, s[qi] as number, s[vi] as number);
      for (let i = emaAt; i < s.length; i++) undo.push(s[i] as number);
    }
    s[ci] = w.close;
    s[qi] = wideToReal(w.sums, QUOTE, qs);
    const volume = wideToReal(w.sums, VOLUME, ctx.sizeScale);
    s[vi] = volume;
    this.count = n + 1;

    const sma: Record<string, number | null> = {};
    for (const p of this.cfg.smaPeriods) sma[p] = this.sma(p, ps);
    const ema: Record<string, number | null> = {};
    const close = w.close / (POW10[ps] as number);
    this.cfg.emaPeriods.forEach((p, i) => {
      const prev = s[emaAt + i] as number;
      let v = Number.NaN;
      if (this.count === p) v = this.sma(p, ps) as number;
      else if (this.count > p) {
        const alpha = 2 / (p + 1);
        v = alpha * close + (1 - alpha) * prev;
      }
      s[emaAt + i] = v;
      ema[p] = Number.isNaN(v) ? null : v;
    });

    let q = 0;
    let v = 0;
    const m = Math.min(this.count, this.vwap);
    for (let i = 0; i < m; i++) {
      q += s[this.ring + i] as number;
      v += s[this.ring + this.vwap + i] as number;
    }
    return {
      exchange: ctx.exchange,
      symbol: ctx.symbol,
      market: ctx.market,
      interval,
      openTime: w.start,
      vwap: v > 0 ? q / v : null,
      sma,
      ema,
      volatility: this.volatility(),
      imbalance: volume > 0 ? (2 * wideToReal(w.sums, BUY_VOLUME, ctx.sizeScale) - volume) / volume : null,
    };
  }

  /**
   * Takes back every update() logged in `undo` (newest first, so each slot gets the value the
   * oldest one found) and empties the log: the state is then the one before the first of them.
   */
  undo(undo: number[]): void {
    const e = this.undoEntry;
    const k = undo.length / e;
    const s = this.s;
    for (let j = k - 1; j >= 0; j--) {
      const n = this.count - k + j;
      const at = j * e;
      s[n % this.ring] = undo[at] as number;
      s[this.ring + (n % this.vwap)] = undo[at + 1] as number;
      s[this.ring + this.vwap + (n % this.vwap)] = undo[at + 2] as number;
    }
    for (let i = 0; k > 0 && i < e - 3; i++) s[this.emaAt + i] = undo[3 + i] as number;
    this.count -= k;
    undo.length = 0;
  }

  /** The actor's price scale grew by 10^k: keep the scaled closes, and those in `undo`, at the new scale. */
  rescalePrice(factor: number, undo: number[]): void {
    for (let i = 0; i < this.ring; i++) this.s[i] = (this.s[i] as number) * factor;
    const e = this.undoEntry;
    for (let at = 0; at < undo.length; at += e) undo[at] = (undo[at] as number) * factor;
  }

  /**
   * The look-back rings for the actor's checkpoint: their lengths first, so that a config with
   * other look-backs is refused on restore instead of misreading the rest.
   */
  writeState(w: StateWriter): void {
    const s = this.s;
    w.uint(this.ring);
    w.uint(this.vwap);
    w.uint(this.cfg.emaPeriods.length);
    w.uint(this.count);
    const closes = Math.min(this.count, this.ring);
    for (let i = 0; i < closes; i++) w.uint(s[i] as number);
    const vols = Math.min(this.count, this.vwap);
    for (let i = 0; i < vols; i++) {
      w.f64(s[this.ring + i] as number);
      w.f64(s[this.ring + this.vwap + i] as number);
    }
    for (let i = this.emaAt; i < s.length; i++) w.f64(s[i] as number);
  }

  /**
   * The state before the updates logged in `undo`, as what differs from this one: the candles
   * fed since, the ring slots they overwrote, the EMAs. A few bytes per candle fed since, where
   * a whole second state would double the indicators' share of the checkpoint.
   */
  writeDiff(w: StateWriter, undo: readonly number[]): void {
    const e = this.undoEntry;
    const k = undo.length / e;
    w.uint(k);
    // Update j of the log is the first to write its slots while j is below the ring's length.
    const nc = Math.min(k, this.ring);
    for (let j = 0; j < nc; j++) w.uint(undo[j * e] as number);
    const nv = Math.min(k, this.vwap);
    for (let j = 0; j < nv; j++) {
      w.f64(undo[j * e + 1] as number);
      w.f64(undo[j * e + 2] as number);
    }
    for (let i = 0; i < e - 3; i++) w.f64(k > 0 ? (undo[3 + i] as number) : (this.s[this.emaAt + i] as number));
  }

  /** Candles seen. */
  get seen(): number {
    return this.count;
  }

  /** The state that writeDiff() wrote against this one, as a new instance. */
  readDiff(r: StateReader): IndicatorState {
    const base = new IndicatorState(this.cfg, this.intervalLenMs);
    const s = base.s;
    for (let i = 0; i < s.length; i++) s[i] = this.s[i] as number;
    const k = r.uint();
    if (k > this.count) throw new ConfigError('actor checkpoint indicator base is ahead of the indicators');
    base.count = this.count - k;
    const nc = Math.min(k, this.ring);
    for (let j = 0; j < nc; j++) s[(base.count + j) % this.ring] = r.uint();
    const nv = Math.min(k, this.vwap);
    for (let j = 0; j < nv; j++) {
      const slot = this.ring + ((base.count + j) % this.vwap);
      s[slot] = r.f64();
      s[slot + this.vwap] = r.f64();
    }
    for (let i = this.emaAt; i < s.length; i++) s[i] = r.f64();
    return base;
  }

  /** Restores writeState() bytes into this fresh instance; a ConfigError if the look-backs differ. */
  readState(r: StateReader): void {
    const shape = [r.uint(), r.uint(), r.uint()];
    if (shape[0] !== this.ring || shape[1] !== this.vwap || shape[2] !== this.cfg.emaPeriods.length) {
      throw new ConfigError('actor checkpoint indicator look-backs differ from the config');
    }
    const s = this.s;
    this.count = r.uint();
    const closes = Math.min(this.count, this.ring);
    for (let i = 0; i < closes; i++) s[i] = r.uint();
    const vols = Math.min(this.count, this.vwap);
    for (let i = 0; i < vols; i++) {
      s[this.ring + i] = r.f64();
      s[this.ring + this.vwap + i] = r.f64();
    }
    for (let i = this.emaAt; i < s.length; i++) s[i] = r.f64();
  }

  private at(back: number): number {
    const len = this.ring;
    return this.s[(((this.count - 1 - back) % len) + len) % len] as number;
  }

  private sma(p: number, ps: number): number | null {
    if (this.count < p) return null;
    let sum = 0n;
    for (let i = 0; i < p; i++) sum += BigInt(this.at(i));
    return realRatio(sum, ps, p);
  }

  private volatility(): number | null {
    const p = this.cfg.volatilityPeriod;
    if (this.count < p + 1) return null;
    let mean = 0;
    for (let i = 0; i < p; i++) mean += Math.log(this.at(i) / this.at(i + 1));
    mean /= p;
    let ss = 0;
    for (let i = 0; i < p; i++) {
      const d = Math.log(this.at(i) / this.at(i + 1)) - mean;
      ss += d * d;
    }
    return Math.sqrt(ss / (p - 1)) * Math.sqrt(this.periodsPerYear);
  }
}
