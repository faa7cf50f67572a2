import { describe, expect, it } from 'vitest';
import { prng as rng } from '../ingest/simulator.js';
import { DEFAULT_ACTOR_CONFIG } from './config.js';
import { StateReader, StateWriter } from './state-codec.js';
import { type TrendCandle, type TrendForecast, TrendModel } from './trend-model.js';

const CFG = DEFAULT_ACTOR_CONFIG.trend;

function gauss(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/**
 * A random-walk price series. With `trend`, the drift is a hidden regime (+/- trend * sigma per
 * candle) that flips with probability `flip` per candle: a planted trend that a look-back over
 * several candles can see, and that the last move alone (persistence) sees badly. Without, the
 * returns are independent of everything before them, and volume and imbalance are noise.
 */
function simulate(seed: number, n: number, trend: number, flip = 0.02): TrendCandle[] {
  const u = rng(seed);
  const sigma = 0.001;
  let close = 10_000;
  let regime = 1;
  const out: TrendCandle[] = [];
  for (let i = 0; i < n; i++) {
    if (u() < flip) regime = -regime;
    close *= Math.exp(regime * trend * sigma + sigma * gauss(u));
    const volume = 1 + 9 * u();
    out.push({ close: Math.round(close * 100) / 100, volume, buyVolume: volume * u() });
  }
  return out;
}

function run(candles: readonly TrendCandle[], model = new TrendModel(CFG)): TrendForecast[] {
  const out: TrendForecast[] = [];
  for (const c of candles) {
    const f = model.observe(c);
    if (f) out.push(f);
  }
  return out;
}

describe('trend model', () => {
  it('beats persistence, the majority and a coin on a planted trend', () => {
    const forecasts = run(simulate(1, 4000, 0.6));
    const s = forecasts.at(-1)?.scores;
    expect(s?.scored).toBeGreaterThan(3900);
    expect(s?.verdicts).toEqual({ persistence: 'better', majority: 'better', coin: 'better' });
    expect(s?.beatsBaselines).toBe(true);
    expect(s?.model.accuracy).toBeGreaterThan((s?.baselines.persistence.accuracy ?? 1) + 0.03);
  });

  it('claims no edge on a series without one, whatever the seed', () => {
    for (const seed of [2, 3, 4, 5, 6, 7, 8, 9]) {
      const s = run(simulate(seed, 4000, 0)).at(-1)?.scores;
      expect(s?.scored).toBeGreaterThan(3900);
      expect(s?.beatsBaselines).toBe(false);
      expect(s?.verdicts.coin).not.toBe('better');
      // Near a coin, as it must be.
      expect(Math.abs((s?.model.accuracy ?? 0) - 0.5)).toBeLessThan(0.04);
    }
  });

  it('says too-few before minScored outcomes', () => {
    const forecasts = run(simulate(1, 60, 0.6));
    expect(forecasts.at(-1)?.scores.verdicts).toEqual({
      persistence: 'too-few',
      majority: 'too-few',
      coin: 'too-few',
    });
    expect(forecasts.at(-1)?.scores.beatsBaselines).toBe(false);
  });

  it('forecasts only from the past: changing a later candle changes no earlier forecast', () => {
    const a = simulate(11, 300, 0.6);
    const b = a.map((c, i) => (i === 200 ? { ...c, close: c.close * 1.05, volume: 999 } : c));
    const fa = run(a);
    const fb = run(b);
    // Forecast k is made when candle k + warmup closes (candle 0 sets the first close, the next
    // warmup - 1 only fill the features): forecast 190 is the first that sees candle 200.
    const seen = 200 - CFG.warmup;
    expect(fb.slice(0, seen)).toEqual(fa.slice(0, seen));
    expect(fb[seen]?.pUp).not.toBe(fa[seen]?.pUp);
  });

  it('drops the forecast of a flat candle: neither scored nor learned from', () => {
    const base = simulate(12, 200, 0.6);
    const m = new TrendModel(CFG);
    run(base, m);
    const before = m.report().scored;
    const w = m.coefficients;
    const last = base.at(-1) as TrendCandle;
    m.observe({ ...last, volume: 0, buyVolume: 0 });
    expect(m.report().scored).toBe(before);
    expect(m.coefficients).toEqual(w);
    expect(m.flats).toBe(1);
  });

  it('restored from its state, continues exactly as the model that kept running', () => {
    const series = simulate(13, 1500, 0.6);
    const kept = new TrendModel(CFG);
    const whole = run(series, kept);
    const first = new TrendModel(CFG);
    const head = run(series.slice(0, 700), first);
    const w = new StateWriter();
    first.write(w);
    const r = new StateReader(w.finish());
    const restored = TrendModel.read(r, CFG);
    expect(r.done).toBe(true);
    const tail = run(series.slice(700), restored);
    expect([...head, ...tail]).toEqual(whole);
    expect(restored.coefficients).toEqual(kept.coefficients);
  });
});
