import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidPattern, isValidSubject, patternsOverlap, subjectMatches, subjectToken } from './subject-syntax.js';

describe('subjects', () => {
  it('matches * as one token and > as one or more trailing tokens', () => {
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*.c', 'a.b.d')).toBe(false);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('>', 'a')).toBe(true);
    expect(subjectMatches('*.b.>', 'x.b.y')).toBe(true);
    expect(subjectMatches('a.b', 'a.b.c')).toBe(false);
  });

  it('validates subjects and patterns as NATS does', () => {
    expect(isValidSubject('candle.1m.binance.BTCUSDT')).toBe(true);
    expect(isValidSubject('kraken.BTC/USD')).toBe(true);
    for (const bad of ['', 'a..b', '.a', 'a.', 'a.*', 'a b', 'a.>']) expect(isValidSubject(bad), bad).toBe(false);
    expect(isValidPattern('a.*.>')).toBe(true);
    for (const bad of ['a.>.b', 'a.b*', 'a..b', '']) expect(isValidPattern(bad), bad).toBe(false);
  });

  it('validates any text as the plain split-and-regex rule does', () => {
    const reference = (subject: string): boolean => {
      if (subject.length === 0 || /\s/.test(subject)) return false;
      for (const t of subject.split('.')) if (t.length === 0) return false;
      return !subject.includes('*') && !subject.includes('>');
    };
    const chars = fc.constantFrom(...'aZ9.*> \t\n\u00a0\u2028\ufeffé-/');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: chars }), fc.string({ unit: 'binary' })), (s) => {
        expect(isValidSubject(s)).toBe(reference(s));
      }),
      { numRuns: 5_000 },
    );
  });

  it('detects overlapping stream subjects', () => {
    expect(patternsOverlap('a.>', 'a.b.c')).toBe(true);
    expect(patternsOverlap('a.*.c', 'a.b.*')).toBe(true);
    expect(patternsOverlap('a.*', 'a.b.c')).toBe(false);
    expect(patternsOverlap('a.b', 'a.c')).toBe(false);
  });

  it('turns symbols into single tokens', () => {
    expect(subjectToken('BTC.D')).toBe('BTC_D');
    expect(subjectToken('BTC/USD')).toBe('BTC/USD');
    expect(subjectToken('')).toBe('_');
  });
});
