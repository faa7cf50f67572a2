import { describe, expect, it } from 'vitest';
import { doubles } from './doubles.js';

describe('doubles', () => {
  it('makes n copies of the value, NaN and integers included', () => {
    expect(doubles(3, 0)).toEqual([0, 0, 0]);
    expect(doubles(2, Number.NaN)).toEqual([Number.NaN, Number.NaN]);
    expect(doubles(0, 1)).toEqual([]);
    const a = doubles(4, 0.25);
    a[1] = 7;
    expect(a).toEqual([0.25, 7, 0.25, 0.25]);
  });
});
