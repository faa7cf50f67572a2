import { describe, expect, it } from 'vitest';
import { apiConfigFromOptions, parseApiOptions } from './api-options.js';

describe('api options', () => {
  it('defaults and overrides', () => {
    const o = parseApiOptions({});
    expect(o).toMatchObject({ port: 8080, host: '0.0.0.0', schema: 'public', migrate: true, dashboardInterval: '1m' });
    expect(o.intervals).toContain('1w');
    const c = apiConfigFromOptions(
      parseApiOptions({ port: '0', intervals: '1m,1h', 'stream-buffer': '50', migrate: 'false' }),
    );
    expect(c.listen).toEqual({ port: 0, host: '0.0.0.0' });
    expect(c.intervals).toEqual(['1m', '1h']);
    expect(c.stream.bufferMessages).toBe(50);
    expect(c.source.simulated).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('refuse what does not make sense, naming the flag', () => {
    expect(() => parseApiOptions({ port: '70000' })).toThrow(/--port/);
    expect(() => parseApiOptions({ intervals: '1m,2m' })).toThrow(/unknown interval\(s\) 2m/);
    expect(() => parseApiOptions({ intervals: '1h', 'dashboard-interval': '1m' })).toThrow(/not among --intervals/);
    expect(() => parseApiOptions({ schema: 'Bad-Name' })).toThrow(/--schema/);
  });
});
