/**
 * A parser for one fixed shape of compact JSON object, much cheaper than JSON.parse for the
 * frames a venue sends millions of times a day: `{"e":"trade","E":1,…}`, keys in a known order,
 * no whitespace, values plain integers, strings without escapes, booleans or nested objects of
 * such a shape.
 *
 * The shape becomes one anchored regular expression, which V8 compiles to native code. A text
 * it matches is valid JSON, and the value built from its captures equals JSON.parse's, key
 * order included:
 * - a string value excludes `"`, `\` and control characters, so it has nothing to unescape
 *   and its text is its value;
 * - an integer is JSON's own `0|[1-9][0-9]*` (no sign, fraction or exponent), and Number()
 *   rounds its digits to the same double as JSON.parse;
 * - keys are plain and distinct (an object's keys), so no key is repeated (where JSON.parse
 *   would keep the last).
 * Anything else (another key order, whitespace, an escape, a negative or fractional number, an
 * extra key) does not match, and the caller gives the text to JSON.parse: the shape decides
 * speed, never the result.
 *
 * A key of an `unread-…` kind is matched like the others but left out of the value, which is
 * then JSON.parse's without those keys: for fields a caller never reads (Binance's event time,
 * order type), whose captures and conversions would only cost.
 */
export type CompactKind = Scalar | `unread-${Scalar}` | CompactShape;
type Scalar = 'integer' | 'string' | 'boolean';
/**
 * Each key with the kind of its value, in the order the venue writes them: an object literal's
 * order, which JavaScript keeps for keys that are not array indices (those are refused).
 */
export interface CompactShape {
  readonly [key: string]: CompactKind;
}

const INTEGER = '0|[1-9][0-9]*';
const STRING = '[^"\\\\\\u0000-\\u001f]*';
const BOOLEAN = 'true|false';
const PLAIN_KEY = /^[A-Za-z0-9_]+$/;
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

interface Compiled {
  readonly source: string;
  /** A JavaScript expression of the value, reading capture groups of `m` from group `at`; undefined when unread. */
  readonly expression: ((at: number) => string) | undefined;
  /** Capture groups the value uses. */
  readonly groups: number;
}

function compile(kind: CompactKind): Compiled {
  if (kind === 'integer') return { source: `(${INTEGER})`, groups: 1, expression: (at) => `Number(m[${at}])` };
  if (kind === 'string') return { source: `"(${STRING})"`, groups: 1, expression: (at) => `m[${at}]` };
  if (kind === 'boolean') return { source: `(${BOOLEAN})`, groups: 1, expression: (at) => `m[${at}] === "true"` };
  if (kind === 'unread-integer') return { source: `(?:${INTEGER})`, groups: 0, expression: undefined };
  if (kind === 'unread-string') return { source: `"${STRING}"`, groups: 0, expression: undefined };
  if (kind === 'unread-boolean') return { source: `(?:${BOOLEAN})`, groups: 0, expression: undefined };
  const parts: string[] = [];
  const fields: { key: string; at: number; expression: (at: number) => string }[] = [];
  let groups = 0;
  for (const [key, k] of Object.entries(kind)) {
    // Checked because keys are written into generated code, and __proto__ would set the
    // prototype of an object literal where JSON.parse makes an own property.
    if (!PLAIN_KEY.test(key) || key === '__proto__') throw new Error(`compact JSON: key ${key} is not plain`);
    if (INDEX_KEY.test(key)) throw new Error(`compact JSON: key ${key} would lose its place in the shape's order`);
    const c = compile(k);
    parts.push(`"${key}":${c.source}`);
    if (c.expression) fields.push({ key, at: groups, expression: c.expression });
    groups += c.groups;
  }
  const expression = (at: number) => `{${fields.map((f) => `"${f.key}": ${f.expression(at + f.at)}`).join(', ')}}`;
  return { source: `\\{${parts.join(',')}\\}`, groups, expression };
}

export interface CompactParser {
  /** JSON.parse(text), less the unread keys, when text has exactly this shape; undefined when it does not. */
  parse(text: string): Record<string, unknown> | undefined;
}

export function compactParser(shape: CompactShape): CompactParser {
  const c = compile(shape);
  const pattern = new RegExp(`^${c.source}$`);
  // One object literal, generated from the shape (its keys are checked plain above): a loop
  // that assigns key by key was measurably slower per frame (docs/BENCHMARKS.md).
  const build = new Function('m', `return ${(c.expression as (at: number) => string)(1)};`) as (
    m: RegExpExecArray,
  ) => Record<string, unknown>;
  return {
    parse(text) {
      const m = pattern.exec(text);
      return m === null ? undefined : build(m);
    },
  };
}
