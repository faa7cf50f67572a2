import type { Interval } from '../market/interval.js';
import { ConfigError } from '../runtime/errors.js';
import { BUY_VOLUME, type CandleContext, type CandleWindow, QUOTE, VOLUME } from './candle-window.js';
import type { IndicatorConfig } from './config.js';
import { POW10, realRatio, wideToReal } from './decimal.js';
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
  /** Ring of scaled closes, long enough for the longest SMA and the volatility look-back. */
  private readonly closes: Float64Array;
  /** Rings of quote volume and volume (as doubles, real units) for the rolling VWAP. */
  private readonly quotes: Float64Array;
  private readonly volumes: Float64Array;
  /** EMA per configured period, NaN until seeded. */
  private readonly ema: Float64Array;
  /** Candles seen. */
  private count = 0;
  private readonly periodsPerYear: number;

  constructor(
    cfg: IndicatorConfig,
    private readonly intervalLenMs: number,
  ) {
    this.cfg = cfg;
    const ring = Math.max(1, ...cfg.smaPeriods, ...cfg.emaPeriods, cfg.volatilityPeriod + 1);
    this.closes = new Float64Array(ring);
    this.quotes = new Float64Array(cfg.vwapPeriod);
    this.volumes = new Float64Array(cfg.vwapPeriod);
    this.ema = new Float64Array(cfg.emaPeriods.length).fill(Number.NaN);
    this.periodsPerYear = YEAR_MS / intervalLenMs;
  }

  /** Feeds a closed candle and returns the indicators as of its close. */
  update(w: CandleWindow, ctx: CandleContext, interval: Interval): IndicatorValues {
    const ps = ctx.priceScale;
    const qs = ps + ctx.sizeScale;
    const n = this.count;
    const closes = this.closes;
    closes[n % closes.length] = w.close;
    const vi = n % this.quotes.length;
    this.quotes[vi] = wideToReal(w.sums, QUOTE, qs);
    const volume = wideToReal(w.sums, VOLUME, ctx.sizeScale);
    this.volumes[vi] = volume;
    this.count = n + 1;

    const sma: Record<string, number | null> = {};
    for (const p of this.cfg.smaPeriods) sma[p] = this.sma(p, ps);
    const ema: Record<string, number | null> = {};
    const close = w.close / (POW10[ps] as number);
    this.cfg.emaPeriods.forEach((p, i) => {
      const prev = this.ema[i] as number;
      let v = Number.NaN;
      if (this.count === p) v = this.sma(p, ps) as number;
      else if (this.count > p) {
        const alpha = 2 / (p + 1);
        v = alpha * close + (1 - alpha) * prev;
      }
      this.ema[i] = v;
      ema[p] = Number.isNaN(v) ? null : v;
    });

    let q = 0;
    let v = 0;
    const m = Math.min(this.count, this.quotes.length);
    for (let i = 0; i < m; i++) {
      q += this.quotes[i] as number;
      v += this.volumes[i] as number;
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

  /** An independent copy: the state to replay revised candles from. */
  clone(): IndicatorState {
    const c = new IndicatorState(this.cfg, this.intervalLenMs);
    c.closes.set(this.closes);
    c.quotes.set(this.quotes);
    c.volumes.set(this.volumes);
    c.ema.set(this.ema);
    c.count = this.count;
    return c;
  }

  /** The actor's price scale grew by 10^k: keep the scaled closes at the new scale. */
  rescalePrice(factor: number): void {
    for (let i = 0; i < this.closes.length; i++) this.closes[i] = (this.closes[i] as number) * factor;
  }

  /** Largest scaled close held (for the actor's overflow check before rescaling). */
  maxClose(): number {
    let m = 0;
    for (const c of this.closes) if (c > m) m = c;
    return m;
  }

  /**
   * The look-back rings for the actor's checkpoint: their lengths first, so that a config with
   * other look-backs is refused on restore instead of misreading the rest.
   */
  writeState(w: StateWriter): void {
    w.uint(this.closes.length);
    w.uint(this.quotes.length);
    w.uint(this.ema.length);
    w.uint(this.count);
    const closes = Math.min(this.count, this.closes.length);
    for (let i = 0; i < closes; i++) w.uint(this.closes[i] as number);
    const vols = Math.min(this.count, this.quotes.length);
    for (let i = 0; i < vols; i++) {
      w.f64(this.quotes[i] as number);
      w.f64(this.volumes[i] as number);
    }
    for (const e of this.ema) w.f64(e);
  }

  /**
   * `base`, a state this one came from by update() alone, as what differs from this one: the
   * candles fed since, the ring slots they overwrote, the EMAs. A few bytes per candle fed since,
   * where a whole second state would double the indicators' share of the checkpoint.
   */
  writeDiff(w: StateWriter, base: IndicatorState): void {
    const k = this.count - base.count;
    w.uint(k);
    const nc = Math.min(k, this.closes.length);
    for (let j = 0; j < nc; j++) w.uint(base.closes[(base.count + j) % base.closes.length] as number);
    const nv = Math.min(k, this.quotes.length);
    for (let j = 0; j < nv; j++) {
      const slot = (base.count + j) % base.quotes.length;
      w.f64(base.quotes[slot] as number);
      w.f64(base.volumes[slot] as number);
    }
    for (const e of base.ema) w.f64(e);
  }

  /** The base state that writeDiff() wrote against this one. */
  readDiff(r: StateReader): IndicatorState {
    const base = this.clone();
    const k = r.uint();
    if (k > this.count) throw new ConfigError('actor checkpoint indicator base is ahead of the indicators');
    base.count = this.count - k;
    const nc = Math.min(k, this.closes.length);
    for (let j = 0; j < nc; j++) base.closes[(base.count + j) % base.closes.length] = r.uint();
    const nv = Math.min(k, this.quotes.length);
    for (let j = 0; j < nv; j++) {
      const slot = (base.count + j) % base.quotes.length;
      base.quotes[slot] = r.f64();
      base.volumes[slot] = r.f64();
    }
    for (let i = 0; i < base.ema.length; i++) base.ema[i] = r.f64();
    return base;
  }

  /** Restores writeState() bytes into this fresh instance; a ConfigError if the look-backs differ. */
  readState(r: StateReader): void {
    const shape = [r.uint(), r.uint(), r.uint()];
    if (shape[0] !== this.closes.length || shape[1] !== this.quotes.length || shape[2] !== this.ema.length) {
      throw new ConfigError('actor checkpoint indicator look-backs differ from the config');
    }
    this.count = r.uint();
    const closes = Math.min(this.count, this.closes.length);
    for (let i = 0; i < closes; i++) this.closes[i] = r.uint();
    const vols = Math.min(this.count, this.quotes.length);
    for (let i = 0; i < vols; i++) {
      this.quotes[i] = r.f64();
      this.volumes[i] = r.f64();
    }
    for (let i = 0; i < this.ema.length; i++) this.ema[i] = r.f64();
  }

  private at(back: number): number {
    const len = this.closes.length;
    return this.closes[(((this.count - 1 - back) % len) + len) % len] as number;
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
