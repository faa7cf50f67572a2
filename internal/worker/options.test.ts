import { describe, expect, it } from 'vitest';
import { ConfigError } from '../runtime/errors.js';
import { parseWorkerOptions, workerActorConfig } from './options.js';

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
});
