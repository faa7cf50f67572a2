import { describe, expect, it } from 'vitest';
import { parseTopicsOptions } from '../../internal/config/topics.js';
import { planTopics } from './topics.js';

describe('tickmesh topics plan', () => {
  const options = parseTopicsOptions({ partitions: '6' });

  it('creates what is missing and keeps what exists', () => {
    const plan = planTopics(options, new Map([['tickmesh.gaps.v1', 1]]));
    expect(plan.create).toEqual([
      'tickmesh.trades.v1',
      'tickmesh.trades.late.v1',
      'tickmesh.trades.rejected.v1',
      'tickmesh.klines.v1',
    ]);
    expect(plan.keep).toEqual([{ topic: 'tickmesh.gaps.v1', partitions: 1 }]);
    expect(plan.refusal).toBeUndefined();
  });

  it('refuses a trades topic with another partition count, naming both counts', () => {
    const plan = planTopics(options, new Map([['tickmesh.trades.v1', 12]]));
    expect(plan.refusal).toMatch(/tickmesh\.trades\.v1 exists with 12 partitions, 6 were asked for/);
  });

  it('refuses a klines topic with another partition count than the trades topic is given', () => {
    const plan = planTopics(options, new Map([['tickmesh.klines.v1', 3]]));
    expect(plan.refusal).toMatch(/tickmesh\.klines\.v1 exists with 3 partitions, 6 were asked for/);
  });

  it('rejects a bad partition count and topics that coincide', () => {
    expect(() => parseTopicsOptions({ partitions: '0' })).toThrow(/--partitions/);
    expect(() => parseTopicsOptions({ 'late-topic': 'tickmesh.trades.v1' })).toThrow(/must differ/);
  });
});
