import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addWide,
  addWideBig,
  compareDecimal,
  divideDecimal,
  formatScaled,
  formatWide,
  MAX_SAFE,
  type ParsedDecimal,
  parseDecimal,
  parseDecimalBytes,
  realRatio,
  rescaleWide,
  wideToBig,
  wideToReal,
} from './decimal.js';

const parse = (s: string): ParsedDecimal | undefined => {
  const out = { value: -1, scale: -1 };
  return parseDecimal(s, out) ? out : undefined;
};

describe('decimal', () => {
  it('parses plain decimals at their smallest exact scale', () => {
    expect(parse('9682')).toEqual({ value: 9682, scale: 0 });
    expect(parse('9682.19000000')).toEqual({ value: 968219, scale: 2 });
    expect(parse('0.132')).toEqual({ value: 132, scale: 3 });
    expect(parse('.5')).toEqual({ value: 5, scale: 1 });
    expect(parse('7.')).toEqual({ value: 7, scale: 0 });
    expect(parse('000.000')).toEqual({ value: 0, scale: 0 });
    expect(parse('0.000000000000001')).toEqual({ value: 1, scale: 15 });
    expect(parse('9007199254740991')).toEqual({ value: MAX_SAFE, scale: 0 });
    // trailing zeros past 2^53 are stripped on the text
    expect(parse('1.00000000000000000000000')).toEqual({ value: 1, scale: 0 });
  });

  it('refuses anything that is not an exact plain decimal it can hold', () => {
    for (const s of [
      '',
      '.',
      '-1',
      '+1',
      '1e5',
      '1,5',
      ' 1',
      '1 ',
      '1.2.3',
      'NaN',
      '0x10',
      '9007199254740993',
      '1.0000000000000001',
    ]) {
      expect(parse(s), s).toBeUndefined();
    }
  });

  it('parses the bytes of a decimal as parseDecimal parses its text (property)', () => {
    const bytes = (s: string): ParsedDecimal | undefined => {
      // Inside a larger buffer, so that the bounds are honoured.
      const b = Buffer.from(`9${s}9`, 'utf8');
      const out = { value: -1, scale: -1 };
      return parseDecimalBytes(b, 1, b.length - 1, out) ? out : undefined;
    };
    const decimal = fc
      .tuple(
        fc.stringMatching(/^[0-9]{0,20}$/),
        fc.boolean(),
        fc.stringMatching(/^[0-9]{0,20}$/),
        fc.integer({ min: 0, max: 25 }),
      )
      .map(([int, dot, frac, zeros]) => (dot ? `${int}.${frac}${'0'.repeat(zeros)}` : `${int}${'0'.repeat(zeros)}`));
    fc.assert(
      fc.property(fc.oneof(decimal, fc.string(), fc.stringMatching(/^[0-9.]{0,6}$/)), (s) => {
        expect(bytes(s)).toEqual(parse(s));
      }),
      { numRuns: 5_000 },
    );
    for (const s of ['', '.', '7.', '.5', '000.000', '9007199254740992', '1.00000000000000000000000', '١']) {
      expect(bytes(s), s).toEqual(parse(s));
    }
  });

  it('formats scaled integers canonically', () => {
    expect(formatScaled(968219, 2)).toBe('9682.19');
    expect(formatScaled(968250, 2)).toBe('9682.5');
    expect(formatScaled(968200, 2)).toBe('9682');
    expect(formatScaled(5, 3)).toBe('0.005');
    expect(formatScaled(0, 8)).toBe('0');
    expect(formatScaled(123, 0)).toBe('123');
  });

  it('round-trips any decimal through parse and format (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 0, max: 15 }), (v, scale) => {
        const digits = v.toString().padStart(scale + 1, '0');
        const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
        const p = parse(text) as ParsedDecimal;
        expect(compareDecimal(formatScaled(p.value, p.scale), text)).toBe(0);
        expect(formatScaled(p.value, p.scale)).not.toMatch(/\.\d*0$/);
      }),
    );
  });

  it('adds wide integers exactly like bigints (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: MAX_SAFE }), fc.bigInt({ min: 0n, max: 1n << 90n })), {
          maxLength: 200,
        }),
        (xs) => {
          const a = new Float64Array(2);
          let want = 0n;
          for (const x of xs) {
            if (typeof x === 'number') addWide(a, 0, x);
            else addWideBig(a, 0, x);
            want += BigInt(x);
          }
          expect(wideToBig(a, 0)).toBe(want);
          expect(a[1]).toBeLessThan(2 ** 52);
          expect(formatWide(a, 0, 4)).toBe(formatWideExpected(want, 4));
          rescaleWide(a, 0, 3);
          expect(wideToBig(a, 0)).toBe(want * 1000n);
        },
      ),
    );
  });

  it('divides with half-up rounding', () => {
    expect(divideDecimal(2n, 0, 3n, 0, 4)).toBe('0.6667');
    expect(divideDecimal(1n, 0, 8n, 0, 2)).toBe('0.13');
    expect(divideDecimal(1n, 0, 4n, 0, 2)).toBe('0.25');
    expect(divideDecimal(34650522510n, 5, 35785n, 3, 12)).toBe('9682.974014251781');
  });

  it('gives statistics that do not depend on the held scale', () => {
    const a = new Float64Array([0, 123456789]);
    const b = new Float64Array(2);
    addWideBig(b, 0, 123456789n * 10n ** 12n);
    expect(wideToReal(a, 0, 4)).toBe(wideToReal(b, 0, 16));
    expect(wideToReal(a, 0, 4)).toBe(12345.6789);
    expect(realRatio(30n, 1, 3)).toBe(1);
    expect(realRatio(10n ** 30n, 20, 3)).toBe(realRatio(10n ** 20n, 10, 3));
  });

  it('compares decimals exactly whatever their trailing zeros', () => {
    expect(compareDecimal('9683.50', '9683.5')).toBe(0);
    expect(compareDecimal('0.1', '0.10000000000000000001')).toBe(-1);
    expect(compareDecimal('2', '1.999999999999999999')).toBe(1);
  });
});

function formatWideExpected(v: bigint, scale: number): string {
  const s = v.toString().padStart(scale + 1, '0');
  const int = s.slice(0, -scale);
  const frac = s.slice(-scale).replace(/0+$/, '');
  return frac ? `${int}.${frac}` : int;
}
