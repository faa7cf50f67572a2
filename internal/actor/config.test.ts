import { describe, expect, it } from 'vitest';
import { ConfigError } from '../runtime/errors.js';
import { actorConfig, DEFAULT_ACTOR_CONFIG } from './config.js';

describe('actorConfig', () => {
  it('defaults to 1m 5m 15m 1h, 2 s out-of-orderness and a 100,000 whale threshold, frozen', () => {
    const c = actorConfig();
    expect(c.intervals).toEqual(['1m', '5m', '15m', '1h']);
    expect(c.outOfOrdernessMs).toBe(2_000);
    expect(c.detectors.whaleTrade.notional).toBe('100000');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.detectors.priceSpike)).toBe(true);
    expect(Object.isFrozen(DEFAULT_ACTOR_CONFIG.intervals)).toBe(true);
  });

  it('merges overrides, sorts and dedupes intervals', () => {
    const c = actorConfig({ intervals: ['1h', '1m', '1m', '1s'], detectors: { priceSpike: { zScore: 3 } } });
    expect(c.intervals).toEqual(['1s', '1m', '1h']);
    expect(c.detectors.priceSpike).toMatchObject({ zScore: 3, criticalZScore: 6 });
  });

  it.each([
    [{ intervals: [] }],
    [{ intervals: ['2m'] }],
    [{ intervals: ['5m'] }],
    [{ outOfOrdernessMs: -1 }],
    [{ allowedLatenessMs: 1.5 }],
    [{ indicators: { smaPeriods: [0] } }],
    [{ indicators: { emaPeriods: [3, 3] } }],
    [{ indicators: { volatilityPeriod: 1 } }],
    [{ detectors: { priceSpike: { alpha: 1 } } }],
    [{ detectors: { priceSpike: { zScore: 5, criticalZScore: 4 } } }],
    [{ detectors: { volumeSpike: { window: 5, minSamples: 6 } } }],
    [{ detectors: { whaleTrade: { notional: '1e5' } } }],
    [{ detectors: { whaleTrade: { perMarket: { 'BTC-USDT': '0' } } } }],
    [{ detectors: { staleMarket: { afterMs: 0 } } }],
  ])('refuses %j', (input) => {
    expect(() => actorConfig(input as never)).toThrow(ConfigError);
  });
});
