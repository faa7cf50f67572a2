import { describe, expect, it } from 'vitest';
import { parseWorkerOptions } from '../config/worker.js';
import { ConfigError } from '../runtime/errors.js';
import { workerActorConfig, workerConfig } from './options.js';

describe('worker options', () => {
  it("sets the actors' partial update interval from --partial-interval-ms (default 250 ms)", () => {
    expect(workerActorConfig(parseWorkerOptions({})).partialMinIntervalMs).toBe(250);
    expect(workerActorConfig(parseWorkerOptions({ 'partial-interval-ms': '0' })).partialMinIntervalMs).toBe(0);
    expect(workerActorConfig(parseWorkerOptions({ 'partial-interval-ms': '1000' })).partialMinIntervalMs).toBe(1000);
  });

  it('refuses a partial update interval that is not a non-negative integer', () => {
    for (const bad of ['-1', '2.5', 'soon']) {
      expect(() => parseWorkerOptions({ 'partial-interval-ms': bad }), bad).toThrow(ConfigError);
    }
  });

  it('fetch wait and min bytes, and the state-only checkpoint interval: defaults, flags, bounds', () => {
    const d = parseWorkerOptions({});
    expect([d.fetchMaxWaitMs, d.fetchMinBytes]).toEqual([100, 1]);
    expect(workerConfig(d).partition.stateCheckpointIntervalMs).toBe(10_000);
    const o = parseWorkerOptions({
      'fetch-max-wait-ms': '250',
      'fetch-min-bytes': '4096',
      'state-checkpoint-interval-ms': '0',
    });
    expect([o.fetchMaxWaitMs, o.fetchMinBytes]).toEqual([250, 4096]);
    expect(workerConfig(o).partition.stateCheckpointIntervalMs).toBe(0);
    for (const bad of [{ 'fetch-max-wait-ms': '0' }, { 'fetch-min-bytes': '0' }, { 'fetch-min-bytes': '2097152' }]) {
      expect(() => parseWorkerOptions(bad), JSON.stringify(bad)).toThrow(ConfigError);
    }
  });

  it('retention of candles per interval and of alerts: defaults, flags, forever', () => {
    const d = parseWorkerOptions({}).retention;
    expect(d).toEqual({
      '1s': 2 * 86_400_000,
      '1m': 30 * 86_400_000,
      '3m': 60 * 86_400_000,
      '5m': 90 * 86_400_000,
      '15m': 180 * 86_400_000,
      '30m': 365 * 86_400_000,
      alerts: 90 * 86_400_000,
    });
    const o = parseWorkerOptions({ 'candle-retention': '1m=12h,1h=forever', 'alert-retention': '7d' });
    expect(workerConfig(o).retention).toEqual({ '1m': 12 * 3_600_000, alerts: 7 * 86_400_000 });
    expect(parseWorkerOptions({ 'alert-retention': 'forever' }).retention.alerts).toBeUndefined();
    for (const bad of [
      { 'candle-retention': '1m=30' },
      { 'candle-retention': '2m=1d' },
      { 'alert-retention': '-1d' },
    ]) {
      expect(() => parseWorkerOptions(bad), JSON.stringify(bad)).toThrow(ConfigError);
    }
  });
});
