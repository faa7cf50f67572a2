import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompactShape, compactParser } from './compact-json.js';

/** JSON.parse's verdict: the value, or 'invalid'. */
function reference(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return 'invalid';
  }
}

const SHAPE: CompactShape = {
  stream: 'string',
  data: {
    e: 'string',
    E: 'integer',
    s: 'string',
    m: 'boolean',
    x: 'unread-string',
    n: 'unread-integer',
    b: 'unread-boolean',
  },
};
const UNREAD = ['x', 'n', 'b'];

/** The parser's value equals JSON.parse's without SHAPE's unread keys, key order included. */
function expectSameAsJson(got: unknown, text: string) {
  const want = reference(text) as { data: Record<string, unknown> } | 'invalid';
  expect(want, text).not.toBe('invalid');
  if (want === 'invalid') return;
  for (const k of UNREAD) delete want.data[k];
  expect(got, text).toEqual(want);
  expect(JSON.stringify(got), text).toBe(JSON.stringify(want));
}

const tail = (x: string, n: string, b: string) => `,"x":${x},"n":${n},"b":${b}`;

// Characters that decide a string's fate: quotes, escapes, control characters, lone surrogates.
const char = fc.oneof(
  { arbitrary: fc.constantFrom('a', 'Z', '1', ' ', '@', 'é', '\u007f', '\ud800', '\udc00'), weight: 8 },
  { arbitrary: fc.constantFrom('"', '\\', '\u0000', '\u001f', '\n'), weight: 1 },
);
const rawString = fc.string({ unit: char, maxLength: 6 }).map((s) => `"${s}"`);
const digits = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String), fc.constant('0'));
const rawNumber = fc.stringMatching(/^-?[0-9]{0,25}(\.[0-9]{0,3})?([eE][+-]?[0-9]{0,3})?$/);
const anyJson = fc.jsonValue({ maxDepth: 1 }).map((v) => JSON.stringify(v) ?? 'null');
const word = fc.constantFrom('true', 'false', 'null', 'tru', 'True', '{}', '[]');
const value = fc.oneof(rawString, rawNumber, anyJson, word);
/** Mostly values of the slot's kind, so that many texts are accepted; sometimes anything. */
const slot = (kind: fc.Arbitrary<string>) => fc.oneof({ arbitrary: kind, weight: 8 }, { arbitrary: value, weight: 1 });
/** Integers and booleans, mostly as JSON writes them. */
const intText = fc.oneof({ arbitrary: digits, weight: 3 }, { arbitrary: rawNumber, weight: 1 });
const boolText = fc.oneof({ arbitrary: fc.constantFrom('true', 'false'), weight: 3 }, { arbitrary: word, weight: 1 });

describe('compact JSON parser', () => {
  it('equals JSON.parse whenever it accepts a text, for any values written at the keys of its shape', () => {
    const parser = compactParser(SHAPE);
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.tuple(
          fc.tuple(slot(rawString), slot(rawString), slot(intText), slot(rawString), slot(boolText)),
          fc.tuple(slot(rawString), slot(intText), slot(boolText)),
        ),
        ([[stream, e, E, s, m], [x, n, b]]) => {
          const text = `{"stream":${stream},"data":{"e":${e},"E":${E},"s":${s},"m":${m}${tail(x, n, b)}}}`;
          const got = parser.parse(text);
          if (got === undefined) return;
          accepted++;
          expectSameAsJson(got, text);
        },
      ),
      { numRuns: 20_000 },
    );
    // The property must have been tried on accepted texts, not only on rejected ones.
    expect(accepted).toBeGreaterThan(300);
  });

  it('accepts every text of its shape with plain values, to the same value as JSON.parse', () => {
    const parser = compactParser(SHAPE);
    const plain = fc.string({ unit: fc.constantFrom('a', 'Z', '1', ' ', '@', 'é', '\u007f', '\ud800'), maxLength: 8 });
    fc.assert(
      fc.property(fc.tuple(plain, plain, digits, plain, fc.boolean()), plain, digits, ([stream, e, E, s, m], x, n) => {
        const text = `{"stream":"${stream}","data":{"e":"${e}","E":${E},"s":"${s}","m":${m}${tail(`"${x}"`, n, String(m))}}}`;
        const got = parser.parse(text);
        expect(got, text).toBeDefined();
        expectSameAsJson(got, text);
      }),
      { numRuns: 5_000 },
    );
  });

  it('leaves whitespace, another key order, extra or missing keys and leading zeros to JSON.parse', () => {
    const parser = compactParser(SHAPE);
    for (const text of [
      '{"stream":"a","data":{"e":"t","E":1,"s":"x","m":true,"x":"","n":0,"b":false} }',
      '{"stream": "a","data":{"e":"t","E":1,"s":"x","m":true,"x":"","n":0,"b":false}}',
      '{"data":{"e":"t","E":1,"s":"x","m":true,"x":"","n":0,"b":false},"stream":"a"}',
      '{"stream":"a","data":{"e":"t","E":1,"s":"x","m":true,"M":true}}',
      '{"stream":"a","data":{"e":"t","E":1,"s":"x","x":"","n":0,"b":false}}',
      '{"stream":"a","data":{"e":"t","E":01,"s":"x","m":true,"x":"","n":0,"b":false}}',
      '{"stream":"a","data":{"e":"t","E":-1,"s":"x","m":true,"x":"","n":0,"b":false}}',
      '{"stream":"a","data":{"e":"t","E":1.5,"s":"x","m":true,"x":"","n":0,"b":false}}',
      '{"stream":"a\\"b","data":{"e":"t","E":1,"s":"x","m":true,"x":"","n":0,"b":false}}',
      '{"stream":"a","data":{"e":"t","E":1,"s":"x","m":true,"x":"","n":0,"b":false}}\n',
      // Unread keys are checked all the same.
      '{"stream":"a","data":{"e":"t","E":1,"s":"x","m":true,"x":"a\\"b","n":0,"b":false}}',
      '{"stream":"a","data":{"e":"t","E":1,"s":"x","m":true,"x":"","n":01,"b":false}}',
      '{"stream":"a","data":{"e":"t","E":1,"s":"x","m":true,"x":"","n":0,"b":fals}}',
    ]) {
      expect(parser.parse(text), text).toBeUndefined();
    }
    expectSameAsJson(
      parser.parse('{"stream":"a","data":{"e":"t","E":1,"s":"x","m":true,"x":"","n":0,"b":false}}'),
      '{"stream":"a","data":{"e":"t","E":1,"s":"x","m":true,"x":"","n":0,"b":false}}',
    );
  });

  it('refuses shapes it cannot parse exactly', () => {
    expect(() => compactParser({ 'a b': 'string' })).toThrow(/not plain/);
    expect(() => compactParser({ 'a"': 'string' })).toThrow(/not plain/);
    expect(() => compactParser(JSON.parse('{"__proto__":"string"}'))).toThrow(/not plain/);
    expect(() => compactParser({ b: 'string', 1: 'integer' })).toThrow(/order/);
  });
});
