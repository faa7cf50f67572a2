/**
 * NATS subject rules, shared by both Bus adapters so that the in-process bus accepts and
 * matches exactly what NATS does: tokens separated by `.`, none empty, no whitespace; in a
 * pattern `*` is one whole token and `>` is a last whole token matching one or more.
 */
const WHITESPACE = /\s/;
const KV_KEY = /^[-/=.\w]+$/;
const KV_PATTERN = /^[-/=.\w*>]+$/;

const DOT = 0x2e;
const STAR = 0x2a;
const GT = 0x3e;

/**
 * One pass over the characters, no allocation: every publish checks its subject, and a live
 * worker publishes for every partial candle (a split-and-regex version showed in its CPU profile).
 */
export function isValidSubject(subject: string): boolean {
  const n = subject.length;
  let tokenStart = 0;
  for (let i = 0; i < n; i++) {
    const ch = subject.charCodeAt(i);
    if (ch === DOT) {
      if (i === tokenStart) return false;
      tokenStart = i + 1;
    } else if (ch === STAR || ch === GT || ch === 0x20 || (ch >= 0x09 && ch <= 0x0d)) {
      return false;
    } else if (ch >= 0x80 && WHITESPACE.test(subject.charAt(i))) {
      return false;
    }
  }
  return tokenStart < n;
}

export function isValidPattern(pattern: string): boolean {
  if (pattern.length === 0 || WHITESPACE.test(pattern)) return false;
  const tokens = pattern.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length === 0) return false;
    if (t === '>' && i !== tokens.length - 1) return false;
    if (t !== '*' && t !== '>' && (t.includes('*') || t.includes('>'))) return false;
  }
  return true;
}

/** Whether `subject` (no wildcards) matches `pattern`. */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const t = p[i]!;
    if (t === '>') return s.length > i;
    if (i >= s.length) return false;
    if (t !== '*' && t !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Whether some subject could match both patterns (NATS refuses overlapping stream subjects). */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i++) {
    const s = x[i];
    const t = y[i];
    if (s === undefined || t === undefined) return s === t;
    if (s === '>' || t === '>') return true;
    if (s !== '*' && t !== '*' && s !== t) return false;
  }
}

export function isValidKvKey(key: string): boolean {
  return KV_KEY.test(key) && isValidSubject(key);
}

export function isValidKvPattern(pattern: string): boolean {
  return KV_PATTERN.test(pattern) && isValidPattern(pattern);
}

/**
 * Turns a free-form value (an exchange symbol such as `BTC/USD` or `BTC.D`) into one subject
 * token: `.`, `*`, `>` and whitespace become `_`.
 */
export function subjectToken(value: string): string {
  const t = value.replace(/[.*>\s]/g, '_');
  return t.length > 0 ? t : '_';
}
