import type { TrendConfig } from './config.js';
import { doubles } from './doubles.js';
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
/*
 * A model's whole state, in one array of doubles (doubles.ts; an object of boxed doubles and
 * small typed arrays cost more than their numbers): the weights, the returns ring, the features of the pending
 * forecast, the baselines' P(up) for it, the scalars, then the prequential scores.
 */
const W = 0;
const RET = W + F;
const X = RET + RING;
const P_BASE = X + F;
/** Returns pushed into the ring. */
const COUNT = P_BASE + 3;
const PREV_CLOSE = COUNT + 1;
const VAR_FAST = COUNT + 2;
const VAR_SLOW = COUNT + 3;
const LOG_VOLUME = COUNT + 4;
/** Direction of the last candle that moved: 1, -1, or 0 before any. */
const LAST_DIR = COUNT + 5;
const UPS = COUNT + 6;
const DOWNS = COUNT + 7;
const PERSIST_HITS = COUNT + 8;
const PERSIST_TRIALS = COUNT + 9;
/** Candles that closed flat while a forecast was pending. */
const FLATS = COUNT + 10;
/** 1 while a forecast waits for its outcome. */
const PENDING = COUNT + 11;
const P_MODEL = COUNT + 12;
const BOARD = COUNT + 13;
const SIZE = BOARD + Prequential.SIZE;

/** The state of a new model. */
const FRESH = doubles(SIZE, 0);
FRESH[PREV_CLOSE] = Number.NaN;
FRESH[LOG_VOLUME] = Number.NaN;
FRESH[P_MODEL] = 0.5;
for (let i = P_BASE; i < P_BASE + 3; i++) FRESH[i] = 0.5;

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
  private readonly s = FRESH.slice();

  constructor(cfg: TrendConfig) {
    this.cfg = cfg;
  }

  /** The current weights, in FEATURES order (a copy). */
  get coefficients(): number[] {
    return this.s.slice(W, W + F);
  }

  /** Candles that closed flat while a forecast was pending. */
  get flats(): number {
    return this.s[FLATS] as number;
  }

  /** Learns from the candle that closed (scoring the pending forecast), then forecasts the next. */
  observe(c: TrendCandle): TrendForecast | undefined {
    const s = this.s;
    const prev = s[PREV_CLOSE] as number;
    s[PREV_CLOSE] = c.close;
    const lv = Math.log1p(c.volume);
    if (!(prev > 0 && c.close > 0)) {
      s[LOG_VOLUME] = lv;
      return undefined;
    }
    const r = Math.log(c.close / prev);
    const dir = r > 0 ? 1 : r < 0 ? -1 : 0;
    if (dir !== 0) this.learn(dir === 1 ? 1 : 0, dir);
    else if (s[PENDING] === 1) {
      s[FLATS] = (s[FLATS] as number) + 1;
      s[PENDING] = 0;
    }

    const logVolume = s[LOG_VOLUME] as number;
    const volumeZ = Number.isNaN(logVolume) ? 0 : lv - logVolume;
    const count = (s[COUNT] as number) + 1;
    s[RET + ((count - 1) % RING)] = r;
    s[COUNT] = count;
    const varFast = (s[VAR_FAST] as number) + FAST * (r * r - (s[VAR_FAST] as number));
    const varSlow = count === 1 ? r * r : (s[VAR_SLOW] as number) + SLOW * (r * r - (s[VAR_SLOW] as number));
    s[VAR_FAST] = varFast;
    s[VAR_SLOW] = varSlow;
    s[LOG_VOLUME] = Number.isNaN(logVolume) ? lv : logVolume + VOLUME_ALPHA * (lv - logVolume);
    if (dir !== 0) s[LAST_DIR] = dir;
    if (count < this.cfg.warmup) return undefined;

    const sd = Math.sqrt(varSlow);
    s[X] = 1;
    s[X + 1] = sd > 0 ? clip(r / sd, 5) : 0;
    s[X + 2] = sd > 0 ? clip(this.sumLast(3) / (sd * Math.sqrt(3)), 5) : 0;
    s[X + 3] = sd > 0 ? clip(this.sumLast(10) / (sd * Math.sqrt(10)), 5) : 0;
    s[X + 4] = varFast > 0 && varSlow > 0 ? clip(0.5 * Math.log(varFast / varSlow), 3) : 0;
    s[X + 5] = clip(volumeZ, 5);
    s[X + 6] = c.volume > 0 ? clip((2 * c.buyVolume - c.volume) / c.volume, 1) : 0;
    let z = 0;
    for (let j = 0; j < F; j++) z += (s[W + j] as number) * (s[X + j] as number);
    const pModel = sigmoid(z);
    s[P_MODEL] = pModel;
    const hits = s[PERSIST_HITS] as number;
    const trials = s[PERSIST_TRIALS] as number;
    const hit = (hits + 1) / (trials + 2);
    const lastDir = s[LAST_DIR] as number;
    const persistence = lastDir === 0 ? 0.5 : lastDir > 0 ? hit : 1 - hit;
    const ups = s[UPS] as number;
    const majority = (ups + 1) / (ups + (s[DOWNS] as number) + 2);
    s[P_BASE] = persistence;
    s[P_BASE + 1] = majority;
    s[P_BASE + 2] = 0.5;
    s[PENDING] = 1;
    return {
      pUp: pModel,
      baselines: { persistence, majority, coin: 0.5 },
      scores: this.report(),
    };
  }

  report(): ScoreReport {
    return Prequential.report(this.s, BOARD, this.cfg);
  }

  private sumLast(k: number): number {
    const s = this.s;
    const count = s[COUNT] as number;
    let sum = 0;
    const n = Math.min(k, count);
    for (let i = 1; i <= n; i++) sum += s[RET + ((count - i) % RING)] as number;
    return sum;
  }

  /** Scores the pending forecast against the outcome and takes one SGD step; then the baselines learn. */
  private learn(y: 0 | 1, dir: number): void {
    const s = this.s;
    if (s[PENDING] === 1) {
      const pModel = s[P_MODEL] as number;
      Prequential.add(s, BOARD, pModel, s, P_BASE, y);
      const g = pModel - y;
      const eta = this.cfg.learningRate;
      const l2 = this.cfg.l2;
      s[W] = (s[W] as number) - eta * g;
      for (let j = 1; j < F; j++) {
        const wj = s[W + j] as number;
        s[W + j] = wj - eta * (g * (s[X + j] as number) + l2 * wj);
      }
      s[PENDING] = 0;
    }
    const lastDir = s[LAST_DIR] as number;
    if (lastDir !== 0) {
      s[PERSIST_TRIALS] = (s[PERSIST_TRIALS] as number) + 1;
      if (dir === lastDir) s[PERSIST_HITS] = (s[PERSIST_HITS] as number) + 1;
    }
    if (y === 1) s[UPS] = (s[UPS] as number) + 1;
    else s[DOWNS] = (s[DOWNS] as number) + 1;
  }

  write(w: StateWriter): void {
    const s = this.s;
    for (let j = 0; j < F; j++) w.f64(s[W + j] as number);
    for (let j = 0; j < RING; j++) w.f64(s[RET + j] as number);
    w.uint(s[COUNT] as number);
    w.f64(s[PREV_CLOSE] as number);
    w.f64(s[VAR_FAST] as number);
    w.f64(s[VAR_SLOW] as number);
    w.f64(s[LOG_VOLUME] as number);
    w.int(s[LAST_DIR] as number);
    w.uint(s[UPS] as number);
    w.uint(s[DOWNS] as number);
    w.uint(s[PERSIST_HITS] as number);
    w.uint(s[PERSIST_TRIALS] as number);
    w.uint(s[FLATS] as number);
    w.bool(s[PENDING] === 1);
    for (let j = 0; j < F; j++) w.f64(s[X + j] as number);
    w.f64(s[P_MODEL] as number);
    for (let j = 0; j < 3; j++) w.f64(s[P_BASE + j] as number);
    Prequential.write(s, BOARD, w);
  }

  static read(r: StateReader, cfg: TrendConfig): TrendModel {
    const m = new TrendModel(cfg);
    const s = m.s;
    for (let j = 0; j < F; j++) s[W + j] = r.f64();
    for (let j = 0; j < RING; j++) s[RET + j] = r.f64();
    s[COUNT] = r.uint();
    s[PREV_CLOSE] = r.f64();
    s[VAR_FAST] = r.f64();
    s[VAR_SLOW] = r.f64();
    s[LOG_VOLUME] = r.f64();
    s[LAST_DIR] = r.int();
    s[UPS] = r.uint();
    s[DOWNS] = r.uint();
    s[PERSIST_HITS] = r.uint();
    s[PERSIST_TRIALS] = r.uint();
    s[FLATS] = r.uint();
    s[PENDING] = r.bool() ? 1 : 0;
    for (let j = 0; j < F; j++) s[X + j] = r.f64();
    s[P_MODEL] = r.f64();
    for (let j = 0; j < 3; j++) s[P_BASE + j] = r.f64();
    Prequential.read(s, BOARD, r);
    return m;
  }
}
