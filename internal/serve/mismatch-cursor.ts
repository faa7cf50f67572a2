import type { Interval } from '../market/interval.js';
import type { MismatchCursor } from '../sink/verification-store.js';

/**
 * The `next` of a page of mismatches (GET /api/v1/verification): where it ended in the
 * (openTime, exchange, symbol, interval) order, as an opaque URL-safe token passed back as
 * `after`. Several markets share an open time, so a time alone could skip some.
 */
export function encodeMismatchCursor(c: MismatchCursor): string {
  return Buffer.from(JSON.stringify([c.openTime, c.exchange, c.symbol, c.interval]), 'utf8').toString('base64url');
}

/** The cursor of a token from encodeMismatchCursor, or undefined when it is not one. */
export function decodeMismatchCursor(token: string, intervals: readonly Interval[]): MismatchCursor | undefined {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v.length !== 4) return undefined;
  const [openTime, exchange, symbol, interval] = v as unknown[];
  if (!Number.isSafeInteger(openTime) || (openTime as number) < 0) return undefined;
  if (typeof exchange !== 'string' || typeof symbol !== 'string' || !intervals.includes(interval as Interval)) {
    return undefined;
  }
  const cursor = { openTime: openTime as number, exchange, symbol, interval: interval as Interval };
  return encodeMismatchCursor(cursor) === token ? cursor : undefined;
}
