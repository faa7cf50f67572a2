/**
 * Exact decimals as scaled integers held in JS numbers.
 *
 * A decimal string `d` with `k` fractional digits is the integer `d * 10^k`. Every such integer
 * the actor keeps in a plain number is below 2^53, where IEEE-754 doubles are exact integers and
 * `+`, `-`, `*` of two of them are exact whenever the true result is also below 2^53 (rounding
 * is monotonic, so a result that would need rounding always lands at or above 2^53, which is
 * how overflow is detected). Sums that can outgrow 2^53 (volumes, quote volumes) are "wide":
 * a pair (hi, lo) meaning hi * 2^52 + lo with 0 <= lo < 2^52, see addWide.
 */

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
export const TWO52 = 2 ** 52;
const TWO52N = 1n << 52n;
const LO_MASK = TWO52N - 1n;

/** The largest number of fractional digits the actor keeps for a price or a size. */
export const MAX_SCALE = 15;

/** 10^i as a double, i = 0..31 (exact up to 10^22; the actor multiplies exactly only by 10^0..10^15). */
export const POW10: readonly number[] = Array.from({ length: 32 }, (_, i) => Number(`1e${i}`));
const POW10N: bigint[] = Array.from({ length: 40 }, (_, i) => 10n ** BigInt(i));

export function pow10n(k: number): bigint {
  return POW10N[k] ?? 10n ** BigInt(k);
}

/** Scratch result of parseDecimal; reuse one per caller to parse without allocating. */
export interface ParsedDecimal {
  /** The digits as an integer, trailing fractional zeros removed. */
  value: number;
  /** Fractional digits left after removing trailing zeros. */
  scale: number;
}

/**
 * Parses an unsigned plain decimal (`9682`, `0.132`, `9682.19000000`, `.5`, `7.`) into `out`,
 * dropping trailing fractional zeros so the scale is the smallest that represents it exactly.
 * Returns false for anything else (signs, exponents, spaces, empty, more than MAX_SCALE
 * significant fractional digits, or an integer of 2^53 or more).
 */
export function parseDecimal(s: string, out: ParsedDecimal): boolean {
  const n = s.length;
  let v = 0;
  let scale = 0;
  let dot = false;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits++;
      if (dot) scale++;
    } else if (c === 46 && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  if (digits === 0) return false;
  // A long run of trailing zeros can push v past 2^53 before it is stripped: strip on the string.
  if (v > MAX_SAFE) return parseLongDecimal(s, out);
  // Trailing fractional zeros (venues pad to a fixed width) read off the text, divided out at once.
  let zeros = 0;
  while (zeros < scale && s.charCodeAt(n - 1 - zeros) === 48) zeros++;
  if (zeros > 0) {
    // v is an exact integer below 2^53 that 10^zeros divides: the quotient is exact.
    v /= POW10[zeros] as number;
    scale -= zeros;
  }
  if (scale > MAX_SCALE) return false;
  out.value = v;
  out.scale = scale;
  return true;
}

function parseLongDecimal(s: string, out: ParsedDecimal): boolean {
  const dot = s.indexOf('.');
  if (dot < 0) return false;
  let end = s.length;
  while (end > dot + 1 && s.charCodeAt(end - 1) === 48) end--;
  const trimmed = s.slice(0, end);
  if (trimmed.length === s.length) return false;
  return parseDecimal(trimmed, out);
}

/**
 * parseDecimal of the ASCII bytes b[from, to), without making the string: the same result for
 * the same text (a byte outside ASCII is refused, as its character would be).
 */
export function parseDecimalBytes(b: Uint8Array, from: number, to: number, out: ParsedDecimal): boolean {
  let v = 0;
  let scale = 0;
  let dot = -1;
  for (let i = from; i < to; i++) {
    const c = b[i] as number;
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      if (dot >= 0) scale++;
    } else if (c === 46 && dot < 0) {
      dot = i;
    } else {
      return false;
    }
  }
  if (to - from === (dot >= 0 ? 1 : 0)) return false;
  if (v > MAX_SAFE) {
    // parseLongDecimal: strip the trailing zeros first, then read the rest.
    if (dot < 0) return false;
    let end = to;
    while (end > dot + 1 && b[end - 1] === 48) end--;
    return end < to && parseDecimalBytes(b, from, end, out);
  }
  // As parseDecimal.
  let zeros = 0;
  while (zeros < scale && b[to - 1 - zeros] === 48) zeros++;
  if (zeros > 0) {
    v /= POW10[zeros] as number;
    scale -= zeros;
  }
  if (scale > MAX_SCALE) return false;
  out.value = v;
  out.scale = scale;
  return true;
}

/** `v * 10^k` if it stays exact, else -1. */
export function rescale(v: number, k: number): number {
  if (k === 0) return v;
  const r = v * (POW10[k] as number);
  return r <= MAX_SAFE ? r : -1;
}

/** Formats the scaled integer v (0 <= v < 2^53) at `scale` as a canonical decimal (no trailing zeros). */
export function formatScaled(v: number, scale: number): string {
  return formatDigits(String(v), scale);
}

/** Formats a non-negative bigint at `scale` as a canonical decimal. */
export function formatScaledBig(v: bigint, scale: number): string {
  return formatDigits(v.toString(), scale);
}

function formatDigits(digits: string, scale: number): string {
  if (scale === 0) return digits;
  let s = digits;
  if (s.length <= scale) s = '0'.repeat(scale - s.length + 1) + s;
  const cut = s.length - scale;
  let end = s.length;
  while (end > cut && s.charCodeAt(end - 1) === 48) end--;
  return end === cut ? s.slice(0, cut) : `${s.slice(0, cut)}.${s.slice(cut, end)}`;
}

/**
 * Adds x (0 <= x < 2^53, an exact integer) to the wide integer stored at a[i] (hi) and a[i + 1]
 * (lo). Every intermediate stays below 2^53, so no rounding ever happens.
 */
export function addWide(a: Float64Array, i: number, x: number): void {
  let v = x;
  if (v >= TWO52) {
    a[i] = (a[i] as number) + 1;
    v -= TWO52;
  }
  let lo = (a[i + 1] as number) + v;
  if (lo >= TWO52) {
    lo -= TWO52;
    a[i] = (a[i] as number) + 1;
  }
  a[i + 1] = lo;
}

/** Adds a non-negative bigint of any size below 2^105 to the wide integer at a[i], a[i + 1]. */
export function addWideBig(a: Float64Array, i: number, x: bigint): void {
  a[i] = (a[i] as number) + Number(x >> 52n);
  addWide(a, i, Number(x & LO_MASK));
}

export function wideToBig(a: Float64Array, i: number): bigint {
  const hi = a[i] as number;
  const lo = a[i + 1] as number;
  return hi === 0 ? BigInt(lo) : BigInt(hi) * TWO52N + BigInt(lo);
}

export function setWideBig(a: Float64Array, i: number, x: bigint): void {
  a[i] = Number(x >> 52n);
  a[i + 1] = Number(x & LO_MASK);
}

/**
 * The wide integer at `scale` as the double nearest its exact decimal value: for statistics,
 * never for candles. Correctly rounded on both paths (one division of exact doubles below
 * 2^53, else the parser), so the result does not depend on the scale the value is held at.
 */
export function wideToReal(a: Float64Array, i: number, scale: number): number {
  if ((a[i] as number) === 0 && scale <= 22) return (a[i + 1] as number) / (POW10[scale] as number);
  return Number(`${wideToBig(a, i)}e-${scale}`);
}

/** num / 10^scale / den as a double, from the exact rational (independent of the scale num is held at). */
export function realRatio(num: bigint, scale: number, den: number): number {
  if (num <= BigInt(MAX_SAFE) && den * (POW10[scale] as number) <= MAX_SAFE && scale <= 22) {
    return Number(num) / (den * (POW10[scale] as number));
  }
  return Number(divideDecimal(num, scale, BigInt(den), 0, 30));
}

export function formatWide(a: Float64Array, i: number, scale: number): string {
  const hi = a[i] as number;
  return hi === 0 ? formatScaled(a[i + 1] as number, scale) : formatScaledBig(wideToBig(a, i), scale);
}

/**
 * Whether the wide integer at a[i] times 10^k stays a wide integer (below 2^105): its high part
 * stays a safe integer. Conservative by at most one unit of the high part.
 */
export function wideFitsRescale(a: Float64Array, i: number, k: number): boolean {
  return ((a[i] as number) + 1) * (POW10[k] as number) <= MAX_SAFE;
}

/** Multiplies the wide integer at a[i] by 10^k in place. */
export function rescaleWide(a: Float64Array, i: number, k: number): void {
  if (k === 0) return;
  setWideBig(a, i, wideToBig(a, i) * pow10n(k));
}

/** x * y for exact integers below 2^53, as a bigint (the slow path when the product passes 2^53). */
export function mulBig(x: number, y: number): bigint {
  return BigInt(x) * BigInt(y);
}

/**
 * num / den rounded half up to `decimals` fractional digits, where num is at scale numScale and
 * den at denScale; returns a canonical decimal string. den must be positive.
 */
export function divideDecimal(num: bigint, numScale: number, den: bigint, denScale: number, decimals: number): string {
  // num/10^ns / (den/10^ds) * 10^d = num * 10^(d + ds) / (den * 10^ns)
  const n = num * pow10n(decimals + denScale);
  const d = den * pow10n(numScale);
  let q = n / d;
  const r = n - q * d;
  if (r * 2n >= d) q += 1n;
  return formatScaledBig(q, decimals);
}

/** Parses a canonical-or-not decimal string into a bigint at exactly `scale` digits; undefined if it has more. */
export function decimalToBig(s: string, scale: number): bigint | undefined {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
  let frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > scale) return undefined;
  frac = frac.padEnd(scale, '0');
  return BigInt(`${m[1] || '0'}${frac}`);
}

/**
 * Compares two decimal strings numerically (-1, 0, 1) without floats. Used by tests and by
 * tools that check candles against exchange output printed with different trailing zeros.
 */
export function compareDecimal(a: string, b: string): number {
  const fa = a.indexOf('.') < 0 ? 0 : a.length - a.indexOf('.') - 1;
  const fb = b.indexOf('.') < 0 ? 0 : b.length - b.indexOf('.') - 1;
  const scale = Math.max(fa, fb);
  const x = decimalToBig(a, scale);
  const y = decimalToBig(b, scale);
  if (x === undefined || y === undefined) throw new Error(`not a decimal: ${x === undefined ? a : b}`);
  return x < y ? -1 : x > y ? 1 : 0;
}
