import { describe, expect, it } from 'vitest';
import { LoadMeter } from './partition-load.js';

describe('LoadMeter', () => {
  it('measures the append rate from the high watermark, not from what was processed', () => {
    const m = new LoadMeter({ timeConstantMs: 1, minSampleMs: 1_000 });
    m.observe(0, 1_000n);
    expect(m.snapshot(0, false, 0n)).toEqual({ rate: undefined, lag: 1_000 });
    // 500 records/s appended; the worker processed only 100 of them per second.
    for (let s = 1; s <= 5; s++) m.observe(s * 1_000, 1_000n + BigInt(500 * s));
    const load = m.snapshot(5_000, false, 500n);
    expect(load.rate).toBeCloseTo(500, 6);
    expect(load.lag).toBe(3_500 - 500);
    // Lag falls as the worker catches up, between batches too.
    expect(m.snapshot(5_000, false, 3_500n).lag).toBe(0);
  });

  it('accumulates batches closer together than the sample interval', () => {
    const m = new LoadMeter({ timeConstantMs: 1, minSampleMs: 1_000 });
    m.observe(0, 0n);
    for (let t = 10; t < 1_000; t += 10) m.observe(t, BigInt(t));
    expect(m.snapshot(990, false, 0n).rate).toBeUndefined();
    m.observe(2_000, 4_000n);
    expect(m.snapshot(2_000, false, 0n).rate).toBeCloseTo(2_000, 6);
  });

  it('takes its first rate over half the time constant, so that one second of a burst is not the rate', () => {
    const m = new LoadMeter({ timeConstantMs: 10_000, minSampleMs: 1_000 });
    m.observe(0, 0n);
    // A burst of 5,000 records in the first second, then 100 a second.
    m.observe(1_000, 5_000n);
    expect(m.snapshot(1_000, false, 0n).rate).toBeUndefined();
    for (let s = 2; s <= 4; s++) m.observe(s * 1_000, 5_000n + BigInt(100 * (s - 1)));
    expect(m.snapshot(4_900, false, 0n).rate).toBeUndefined();
    m.observe(5_000, 5_400n);
    expect(m.snapshot(5_000, false, 0n).rate).toBeCloseTo(5_400 / 5, 6);
  });

  it('smooths: a step in the input moves the rate by 1 - e^(-dt/tau) of the difference', () => {
    const m = new LoadMeter({ timeConstantMs: 10_000, minSampleMs: 1_000, firstSampleMs: 1_000 });
    m.observe(0, 0n);
    m.observe(1_000, 100n);
    expect(m.snapshot(1_000, false, 0n).rate).toBeCloseTo(100, 6);
    m.observe(2_000, 1_100n);
    expect(m.snapshot(2_000, false, 0n).rate).toBeCloseTo(100 + (1 - Math.exp(-0.1)) * 900, 6);
  });

  it('decays while fetched from without batches (no input), and not while paused', () => {
    const m = new LoadMeter({ timeConstantMs: 10_000, minSampleMs: 1_000, firstSampleMs: 1_000 });
    m.observe(0, 0n);
    m.observe(1_000, 1_000n);
    expect(m.snapshot(31_000, false, 0n).rate).toBeCloseTo(1_000 * Math.exp(-3), 6);
    expect(m.snapshot(31_000, true, 0n).rate).toBeCloseTo(1_000, 6);
    // After a paused gap, the first batch carries the whole advance: the mean is right.
    m.observe(11_000, 11_000n);
    expect(m.snapshot(11_000, true, 2_000n).rate).toBeCloseTo(1_000, 6);
    expect(m.snapshot(11_000, true, 2_000n).lag).toBe(9_000);
  });

  it('counts a watermark that went back as no input', () => {
    const m = new LoadMeter({ timeConstantMs: 1, minSampleMs: 1_000 });
    m.observe(0, 5_000n);
    m.observe(1_000, 10n);
    expect(m.snapshot(1_000, false, 0n).rate).toBe(0);
  });

  it('reports trades per second: records per second times the trades per record processed', () => {
    const m = new LoadMeter({ timeConstantMs: 1, minSampleMs: 1_000, firstSampleMs: 1_000 });
    m.observe(0, 0n);
    // 100 records a second, each a trade-batch of 20 trades, processed as they come.
    for (let s = 1; s <= 3; s++) {
      m.processed(100, 2_000);
      m.observe(s * 1_000, BigInt(100 * s));
    }
    expect(m.snapshot(3_000, false, 300n).rate).toBeCloseTo(2_000, 6);
    // Until a record was processed, a record counts as one trade.
    const fresh = new LoadMeter({ timeConstantMs: 1, minSampleMs: 1_000, firstSampleMs: 1_000 });
    fresh.observe(0, 0n);
    fresh.observe(1_000, 100n);
    expect(fresh.snapshot(1_000, false, 0n).rate).toBeCloseTo(100, 6);
  });
});
