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

/*
 * The scores live in a slice of the caller's array of doubles (one per model, doubles.ts: small
 * typed arrays or objects of boxed doubles cost more than their numbers). A tally is four numbers:
 * outcomes n, hits (a probability of exactly 0.5 counts as half a hit, the expected value of a
 * coin), and the sums of log loss and Brier score. A paired difference is three: Welford's
 * running count, mean and sum of squared deviations of the loss differences.
 */
const TALLY = 4;
const DIFF = 3;
const BASE_AT = TALLY;
const DIFF_AT = TALLY * (1 + BASELINES.length);

function tallyAdd(s: number[], at: number, p: number, y: 0 | 1): number {
  const q = p < EPS ? EPS : p > 1 - EPS ? 1 - EPS : p;
  const loss = -Math.log(y === 1 ? q : 1 - q);
  s[at] = (s[at] as number) + 1;
  s[at + 1] = (s[at + 1] as number) + (p === 0.5 ? 0.5 : p > 0.5 === (y === 1) ? 1 : 0);
  s[at + 2] = (s[at + 2] as number) + loss;
  s[at + 3] = (s[at + 3] as number) + (p - y) * (p - y);
  return loss;
}

function tallyScore(s: number[], at: number): Score {
  const n = s[at] as number;
  if (n === 0) return { accuracy: null, logLoss: null, brier: null };
  return { accuracy: (s[at + 1] as number) / n, logLoss: (s[at + 2] as number) / n, brier: (s[at + 3] as number) / n };
}

function diffAdd(s: number[], at: number, d: number): void {
  const n = (s[at] as number) + 1;
  s[at] = n;
  const mean = s[at + 1] as number;
  const delta = d - mean;
  const next = mean + delta / n;
  s[at + 1] = next;
  s[at + 2] = (s[at + 2] as number) + delta * (d - next);
}

function diffVerdict(s: number[], at: number, rule: SignificanceRule): Verdict {
  const n = s[at] as number;
  const mean = s[at + 1] as number;
  if (n < rule.minScored || n < 2) return 'too-few';
  const se = Math.sqrt((s[at + 2] as number) / (n - 1) / n);
  const z = se > 0 ? mean / se : mean > 0 ? Number.POSITIVE_INFINITY : mean < 0 ? -Infinity : 0;
  return z >= rule.zCritical ? 'better' : z <= -rule.zCritical ? 'worse' : 'no-difference';
}

/**
 * Prequential (predict, then learn) scoring of a probabilistic predictor of up/down against the
 * baselines: accuracy, log loss and Brier score of each, and a significance rule on the paired
 * log-loss differences (baseline loss minus model loss per outcome, a Diebold-Mariano style z test
 * that treats the differences as independent). A model that is no better than a baseline gets
 * `no-difference`, never a claim: `beatsBaselines` needs `better` against all three.
 *
 * Functions over `Prequential.SIZE` numbers of `s` from `at`, zero when nothing is scored.
 */
export const Prequential = {
  SIZE: DIFF_AT + DIFF * BASELINES.length,

  /** Scores one outcome; `baselines` holds P(up) of each baseline in BASELINES order (from `b`). */
  add(s: number[], at: number, pModel: number, baselines: readonly number[], b: number, y: 0 | 1): void {
    const lm = tallyAdd(s, at, pModel, y);
    for (let i = 0; i < BASELINES.length; i++) {
      const lb = tallyAdd(s, at + BASE_AT + i * TALLY, baselines[b + i] as number, y);
      diffAdd(s, at + DIFF_AT + i * DIFF, lb - lm);
    }
  },

  report(s: number[], at: number, rule: SignificanceRule): ScoreReport {
    const baselines = {} as Record<Baseline, Score>;
    const verdicts = {} as Record<Baseline, Verdict>;
    BASELINES.forEach((b, i) => {
      baselines[b] = tallyScore(s, at + BASE_AT + i * TALLY);
      verdicts[b] = diffVerdict(s, at + DIFF_AT + i * DIFF, rule);
    });
    return {
      scored: s[at] as number,
      model: tallyScore(s, at),
      baselines,
      verdicts,
      beatsBaselines: BASELINES.every((b) => verdicts[b] === 'better'),
    };
  },

  /** The checkpoint layout: the model's tally, each baseline's, each paired difference. */
  write(s: number[], at: number, w: StateWriter): void {
    for (let i = 0; i <= BASELINES.length; i++) {
      const t = at + i * TALLY;
      w.uint(s[t] as number);
      w.f64(s[t + 1] as number);
      w.f64(s[t + 2] as number);
      w.f64(s[t + 3] as number);
    }
    for (let i = 0; i < BASELINES.length; i++) {
      const d = at + DIFF_AT + i * DIFF;
      w.uint(s[d] as number);
      w.f64(s[d + 1] as number);
      w.f64(s[d + 2] as number);
    }
  },

  read(s: number[], at: number, r: StateReader): void {
    for (let i = 0; i <= BASELINES.length; i++) {
      const t = at + i * TALLY;
      s[t] = r.uint();
      s[t + 1] = r.f64();
      s[t + 2] = r.f64();
      s[t + 3] = r.f64();
    }
    for (let i = 0; i < BASELINES.length; i++) {
      const d = at + DIFF_AT + i * DIFF;
      s[d] = r.uint();
      s[d + 1] = r.f64();
      s[d + 2] = r.f64();
    }
  },
};
