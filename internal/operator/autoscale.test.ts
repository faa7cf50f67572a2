import { describe, expect, it } from 'vitest';
import { type AutoscaleOptions, type Autoscaler, type AutoscaleSample, createAutoscaler } from './autoscale.js';

const options: AutoscaleOptions = {
  min: 1,
  max: 4,
  lagHigh: 10_000,
  upAfterMs: 30_000,
  downAfterMs: 300_000,
  cooldownMs: 60_000,
  partitionCount: 8,
};

const sample = (at: number, replicas: number, more: Partial<AutoscaleSample> = {}): AutoscaleSample => ({
  at,
  replicas,
  lag: 0,
  paused: 0,
  rate: 0,
  ...more,
});

/** Feeds samples every `step` ms from `from` to `to`, applying decisions; returns them with their times. */
function run(
  a: Autoscaler,
  from: number,
  to: number,
  replicas: number,
  more: (at: number, replicas: number) => Partial<AutoscaleSample>,
  step = 1_000,
): { replicas: number; decisions: Array<{ at: number; replicas: number; reason: string }> } {
  const decisions: Array<{ at: number; replicas: number; reason: string }> = [];
  let r = replicas;
  for (let at = from; at <= to; at += step) {
    const d = a.observe(sample(at, r, more(at, r)));
    if (d) {
      decisions.push({ at, ...d });
      r = d.replicas;
    }
  }
  return { replicas: r, decisions };
}

describe('Autoscaler', () => {
  it('adds one replica after sustained lag, then waits out the cooldown before the next', () => {
    const a = createAutoscaler(options);
    const { decisions } = run(a, 0, 200_000, 2, () => ({ lag: 50_000 }));
    expect(decisions.map((d) => [d.at, d.replicas, d.reason])).toEqual([
      [30_000, 3, 'lag'],
      [90_000, 4, 'lag'],
    ]);
  });

  it('does not react to a burst shorter than upAfterMs', () => {
    const a = createAutoscaler(options);
    const { decisions } = run(a, 0, 120_000, 2, (at) => ({ lag: at % 40_000 < 20_000 ? 50_000 : 0 }));
    expect(decisions).toEqual([]);
  });

  it('treats a paused partition as pressure whatever the lag', () => {
    const a = createAutoscaler(options);
    const { decisions } = run(a, 0, 40_000, 1, () => ({ paused: 1, lag: 10 }));
    expect(decisions).toEqual([{ at: 30_000, replicas: 2, reason: 'backpressure' }]);
  });

  it('removes one replica after sustained calm, down to min, and never past max or the partition count', () => {
    const a = createAutoscaler(options);
    const down = run(a, 0, 1_000_000, 3, () => ({ lag: 100 }), 10_000);
    // The calm clock restarts with the first sample after a change (310 s), so the next step is at 610 s.
    expect(down.decisions.map((d) => [d.at, d.replicas, d.reason])).toEqual([
      [300_000, 2, 'calm'],
      [610_000, 1, 'calm'],
    ]);
    expect(down.replicas).toBe(1);
    const capped = createAutoscaler({ ...options, max: 20, partitionCount: 3 });
    const up = run(capped, 0, 1_000_000, 1, () => ({ lag: 1e9 }), 10_000);
    expect(up.replicas).toBe(3);
  });

  it('brings a count outside [min, max] back at once', () => {
    const a = createAutoscaler({ ...options, min: 2 });
    expect(a.observe(sample(0, 1))).toEqual({ replicas: 2, reason: 'below-min' });
    const b = createAutoscaler(options);
    expect(b.observe(sample(0, 9))).toEqual({ replicas: 4, reason: 'above-max' });
  });

  it('sizes by input rate when a target rate per worker is set, and keeps what the rate needs', () => {
    const a = createAutoscaler({ ...options, targetRatePerWorker: 1_000 });
    // 2,500 trades/s need 3 workers; nothing is behind yet.
    const up = run(a, 0, 100_000, 2, () => ({ rate: 2_500 }));
    expect(up.decisions.map((d) => [d.replicas, d.reason])).toEqual([[3, 'rate']]);
    // Calm at 3: 2,500 trades/s do not fit 2, so it stays.
    const stay = run(a, 100_000, 1_000_000, up.replicas, () => ({ rate: 2_500 }), 10_000);
    expect(stay.decisions).toEqual([]);
    // Input falls to 900 trades/s: down, one step per downAfterMs.
    const down = run(a, 1_000_000, 2_000_000, 3, () => ({ rate: 900 }), 10_000);
    expect(down.decisions.map((d) => d.replicas)).toEqual([2, 1]);
  });

  it('restarts its clocks when someone else changes the replica count', () => {
    const a = createAutoscaler(options);
    run(a, 0, 25_000, 2, () => ({ lag: 50_000 }));
    // A person scales to 3 at 26 s: the pressure clock restarts, and the cooldown holds.
    const after = run(a, 26_000, 100_000, 3, () => ({ lag: 50_000 }));
    expect(after.decisions).toEqual([{ at: 86_000, replicas: 4, reason: 'lag' }]);
  });

  it('refuses nonsense options', () => {
    expect(() => createAutoscaler({ ...options, min: 0 })).toThrow(RangeError);
    expect(() => createAutoscaler({ ...options, max: 0 })).toThrow(RangeError);
    expect(() => createAutoscaler({ ...options, lagHigh: 0 })).toThrow(RangeError);
    expect(() => createAutoscaler({ ...options, targetRatePerWorker: -1 })).toThrow(RangeError);
  });
});
