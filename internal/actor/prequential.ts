import type { StateReader, StateWriter } from './state-codec.js';

/** Probabilities are clipped to [EPS, 1 - EPS] before the log loss, so one sure miss is costly, not infinite. */
const EPS = 1e-6;

/** The predictors a trend model is scored against, in a fixed order (checkpoint order too). */
export const BASELINES = ['persistence', 'majority', 'coin'] as const;
export type Baseline = (typeof BASELINES)[number];

/**
 * How the model compares with one baseline on the paired per-candle log loss:
 * `too-few` until `minScored` outcomes; `better` / `worse` when the one-sided z statistic of the
 * mean difference passes ±zCritical; `no-difference` otherwise.
 */
export type Verdict = 'too-few' | 'better' | 'no-difference' | 'worse';

/** Running prequential scores of one predictor; null before the first outcome. */
export interface Score {
  readonly accuracy: number | null;
  readonly logLoss: number | null;
  readonly brier: number | null;
}

export interface ScoreReport {
  /** Outcomes scored (candles whose direction was predicted and that moved). */
  readonly scored: number;
  readonly model: Score;
  readonly baselines: Readonly<Record<Baseline, Score>>;
  readonly verdicts: Readonly<Record<Baseline, Verdict>>;
  /** true only when every verdict is `better`: the only case in which the model claims an edge. */
  readonly beatsBaselines: boolean;
}

export interface SignificanceRule {
  /** Outcomes before any verdict other than `too-few`. */
  readonly minScored: number;
  /** One-sided critical value of the z statistic (2.33: about 1% under no difference). */
  readonly zCritical: number;
}

class Tally {
  n = 0;
  /** Hits, with a probability of exactly 0.5 counted as half a hit (the expected value of a coin). */
  hits = 0;
  logLoss = 0;
  brier = 0;

  add(p: number, y: 0 | 1): number {
    const q = p < EPS ? EPS : p > 1 - EPS ? 1 - EPS : p;
    const loss = -Math.log(y === 1 ? q : 1 - q);
    this.n++;
    this.hits += p === 0.5 ? 0.5 : p > 0.5 === (y === 1) ? 1 : 0;
    this.logLoss += loss;
    this.brier += (p - y) * (p - y);
    return loss;
  }

  score(): Score {
    const n = this.n;
    if (n === 0) return { accuracy: null, logLoss: null, brier: null };
    return { accuracy: this.hits / n, logLoss: this.logLoss / n, brier: this.brier / n };
  }

  write(w: StateWriter): void {
    w.uint(this.n);
    w.f64(this.hits);
    w.f64(this.logLoss);
    w.f64(this.brier);
  }

  read(r: StateReader): void {
    this.n = r.uint();
    this.hits = r.f64();
    this.logLoss = r.f64();
    this.brier = r.f64();
  }
}

/** Welford's running mean and sum of squared deviations of the paired loss differences. */
class PairedDifference {
  n = 0;
  mean = 0;
  m2 = 0;

  add(d: number): void {
    this.n++;
    const delta = d - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (d - this.mean);
  }

  verdict(rule: SignificanceRule): Verdict {
    if (this.n < rule.minScored || this.n < 2) return 'too-few';
    const se = Math.sqrt(this.m2 / (this.n - 1) / this.n);
    const z = se > 0 ? this.mean / se : this.mean > 0 ? Number.POSITIVE_INFINITY : this.mean < 0 ? -Infinity : 0;
    return z >= rule.zCritical ? 'better' : z <= -rule.zCritical ? 'worse' : 'no-difference';
  }

  write(w: StateWriter): void {
    w.uint(this.n);
    w.f64(this.mean);
    w.f64(this.m2);
  }

  read(r: StateReader): void {
    this.n = r.uint();
    this.mean = r.f64();
    this.m2 = r.f64();
  }
}

/**
 * Prequential (predict, then learn) scoring of a probabilistic predictor of up/down against the
 * baselines: accuracy, log loss and Brier score of each, and a significance rule on the paired
 * log-loss differences (baseline loss minus model loss per outcome, a Diebold-Mariano style z test
 * that treats the differences as independent). A model that is no better than a baseline gets
 * `no-difference`, never a claim: `beatsBaselines` needs `better` against all three.
 */
export class Prequential {
  private readonly model = new Tally();
  private readonly base = BASELINES.map(() => new Tally());
  private readonly diff = BASELINES.map(() => new PairedDifference());

  /** Scores one outcome; `baselines` holds P(up) of each baseline in BASELINES order. */
  add(pModel: number, baselines: readonly number[], y: 0 | 1): void {
    const lm = this.model.add(pModel, y);
    for (let i = 0; i < BASELINES.length; i++) {
      const lb = (this.base[i] as Tally).add(baselines[i] as number, y);
      (this.diff[i] as PairedDifference).add(lb - lm);
    }
  }

  report(rule: SignificanceRule): ScoreReport {
    const baselines = {} as Record<Baseline, Score>;
    const verdicts = {} as Record<Baseline, Verdict>;
    BASELINES.forEach((b, i) => {
      baselines[b] = (this.base[i] as Tally).score();
      verdicts[b] = (this.diff[i] as PairedDifference).verdict(rule);
    });
    return {
      scored: this.model.n,
      model: this.model.score(),
      baselines,
      verdicts,
      beatsBaselines: BASELINES.every((b) => verdicts[b] === 'better'),
    };
  }

  write(w: StateWriter): void {
    this.model.write(w);
    for (const t of this.base) t.write(w);
    for (const d of this.diff) d.write(w);
  }

  read(r: StateReader): void {
    this.model.read(r);
    for (const t of this.base) t.read(r);
    for (const d of this.diff) d.read(r);
  }
}
