import type { TrendConfig } from './config.js';
import { Prequential, type ScoreReport } from './prequential.js';
import type { StateReader, StateWriter } from './state-codec.js';

/** One closed candle as the model sees it, in real units (doubles computed from exact sums). */
export interface TrendCandle {
  readonly close: number;
  readonly volume: number;
  readonly buyVolume: number;
}

/** A forecast of the next candle's direction, with the scores of every forecast made so far. */
export interface TrendForecast {
  /** Model probability that the next candle closes above this one's close. */
  readonly pUp: number;
  /** The baselines' P(up) for the same candle. */
  readonly baselines: { readonly persistence: number; readonly majority: number; readonly coin: number };
  readonly scores: ScoreReport;
}

/** Feature order: the weight vector and the checkpoint follow it. */
export const FEATURES = ['bias', 'return1', 'return3', 'return10', 'volatilityRatio', 'volume', 'imbalance'] as const;
const F = FEATURES.length;
const RING = 10;
const FAST = 0.2;
const SLOW = 0.02;
const VOLUME_ALPHA = 0.1;

function clip(v: number, m: number): number {
  return v > m ? m : v < -m ? -m : v;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/**
 * Online logistic regression by SGD predicting whether the next closed candle of one market and
 * interval closes above the current one, scored prequentially against the baselines.
 *
 * No look-ahead: the features of a forecast are computed from candles closed up to and including
 * the current one; the forecast is scored and learned from when the next candle closes, and only
 * then. A candle that closes exactly at the previous close (an empty candle, a flat market) has no
 * direction: the forecast made for it is dropped, neither scored nor learned from.
 *
 * Features (each scaled to be of order one, clipped): the last log return, the sums of the last 3
 * and 10, each over the slow EWMA volatility of returns; half the log ratio of the fast to the
 * slow EWMA variance; log(1 + volume) against its EWMA; the taker imbalance of the candle.
 * Baselines: persistence (the last move's direction, with its running hit rate as probability),
 * the majority class so far (Laplace-smoothed frequency of up moves), and a coin (0.5).
 *
 * Pure and deterministic: the same candles give the same forecasts bit for bit, and write/read
 * carry the whole state, so a restored model continues exactly.
 */
export class TrendModel {
  private readonly cfg: TrendConfig;
  private readonly weights = new Float64Array(F);
  private readonly returns = new Float64Array(RING);
  /** Returns pushed into the ring. */
  private count = 0;
  private prevClose = Number.NaN;
  private varFast = 0;
  private varSlow = 0;
  private logVolume = Number.NaN;
  /** Direction of the last candle that moved: 1, -1, or 0 before any. */
  private lastDir = 0;
  private ups = 0;
  private downs = 0;
  private persistHits = 0;
  private persistTrials = 0;
  /** Candles that closed flat while a forecast was pending. */
  flats = 0;
  private pending = false;
  private readonly x = new Float64Array(F);
  private pModel = 0.5;
  private readonly pBase = [0.5, 0.5, 0.5];
  private readonly board = new Prequential();

  constructor(cfg: TrendConfig) {
    this.cfg = cfg;
  }

  /** The current weights, in FEATURES order (a copy). */
  get coefficients(): number[] {
    return [...this.weights];
  }

  /** Learns from the candle that closed (scoring the pending forecast), then forecasts the next. */
  observe(c: TrendCandle): TrendForecast | undefined {
    const prev = this.prevClose;
    this.prevClose = c.close;
    const lv = Math.log1p(c.volume);
    if (!(prev > 0 && c.close > 0)) {
      this.logVolume = lv;
      return undefined;
    }
    const r = Math.log(c.close / prev);
    const dir = r > 0 ? 1 : r < 0 ? -1 : 0;
    if (dir !== 0) this.learn(dir === 1 ? 1 : 0, dir);
    else if (this.pending) {
      this.flats++;
      this.pending = false;
    }

    const volumeZ = Number.isNaN(this.logVolume) ? 0 : lv - this.logVolume;
    this.returns[this.count % RING] = r;
    this.count++;
    this.varFast += FAST * (r * r - this.varFast);
    this.varSlow = this.count === 1 ? r * r : this.varSlow + SLOW * (r * r - this.varSlow);
    this.logVolume = Number.isNaN(this.logVolume) ? lv : this.logVolume + VOLUME_ALPHA * (lv - this.logVolume);
    if (dir !== 0) this.lastDir = dir;
    if (this.count < this.cfg.warmup) return undefined;

    const x = this.x;
    const sd = Math.sqrt(this.varSlow);
    x[0] = 1;
    x[1] = sd > 0 ? clip(r / sd, 5) : 0;
    x[2] = sd > 0 ? clip(this.sumLast(3) / (sd * Math.sqrt(3)), 5) : 0;
    x[3] = sd > 0 ? clip(this.sumLast(10) / (sd * Math.sqrt(10)), 5) : 0;
    x[4] = this.varFast > 0 && this.varSlow > 0 ? clip(0.5 * Math.log(this.varFast / this.varSlow), 3) : 0;
    x[5] = clip(volumeZ, 5);
    x[6] = c.volume > 0 ? clip((2 * c.buyVolume - c.volume) / c.volume, 1) : 0;
    let z = 0;
    for (let j = 0; j < F; j++) z += (this.weights[j] as number) * (x[j] as number);
    this.pModel = sigmoid(z);
    const hit = (this.persistHits + 1) / (this.persistTrials + 2);
    this.pBase[0] = this.lastDir === 0 ? 0.5 : this.lastDir > 0 ? hit : 1 - hit;
    this.pBase[1] = (this.ups + 1) / (this.ups + this.downs + 2);
    this.pBase[2] = 0.5;
    this.pending = true;
    return {
      pUp: this.pModel,
      baselines: { persistence: this.pBase[0] as number, majority: this.pBase[1] as number, coin: 0.5 },
      scores: this.report(),
    };
  }

  report(): ScoreReport {
    return this.board.report(this.cfg);
  }

  private sumLast(k: number): number {
    let s = 0;
    const n = Math.min(k, this.count);
    for (let i = 1; i <= n; i++) s += this.returns[(this.count - i) % RING] as number;
    return s;
  }

  /** Scores the pending forecast against the outcome and takes one SGD step; then the baselines learn. */
  private learn(y: 0 | 1, dir: number): void {
    if (this.pending) {
      this.board.add(this.pModel, this.pBase, y);
      const g = this.pModel - y;
      const eta = this.cfg.learningRate;
      const l2 = this.cfg.l2;
      const w = this.weights;
      w[0] = (w[0] as number) - eta * g;
      for (let j = 1; j < F; j++) w[j] = (w[j] as number) - eta * (g * (this.x[j] as number) + l2 * (w[j] as number));
      this.pending = false;
    }
    if (this.lastDir !== 0) {
      this.persistTrials++;
      if (dir === this.lastDir) this.persistHits++;
    }
    if (y === 1) this.ups++;
    else this.downs++;
  }

  write(w: StateWriter): void {
    for (const v of this.weights) w.f64(v);
    for (const v of this.returns) w.f64(v);
    w.uint(this.count);
    w.f64(this.prevClose);
    w.f64(this.varFast);
    w.f64(this.varSlow);
    w.f64(this.logVolume);
    w.int(this.lastDir);
    w.uint(this.ups);
    w.uint(this.downs);
    w.uint(this.persistHits);
    w.uint(this.persistTrials);
    w.uint(this.flats);
    w.bool(this.pending);
    for (const v of this.x) w.f64(v);
    w.f64(this.pModel);
    for (const v of this.pBase) w.f64(v);
    this.board.write(w);
  }

  static read(r: StateReader, cfg: TrendConfig): TrendModel {
    const m = new TrendModel(cfg);
    for (let j = 0; j < F; j++) m.weights[j] = r.f64();
    for (let j = 0; j < RING; j++) m.returns[j] = r.f64();
    m.count = r.uint();
    m.prevClose = r.f64();
    m.varFast = r.f64();
    m.varSlow = r.f64();
    m.logVolume = r.f64();
    m.lastDir = r.int();
    m.ups = r.uint();
    m.downs = r.uint();
    m.persistHits = r.uint();
    m.persistTrials = r.uint();
    m.flats = r.uint();
    m.pending = r.bool();
    for (let j = 0; j < F; j++) m.x[j] = r.f64();
    m.pModel = r.f64();
    for (let j = 0; j < 3; j++) m.pBase[j] = r.f64();
    m.board.read(r);
    return m;
  }
}
