import type { AlertCursor } from '../sink/store.js';

/**
 * The `next` of an alerts page: where the page ended in the alerts' (time, id) order, as an opaque
 * URL-safe token that the next request passes back as `after`. Alerts share event times (one
 * trade can fire several detectors), so a time alone, as candles' `next` is, could skip some.
 */
export function encodeAlertCursor(c: AlertCursor): string {
  return Buffer.from(`${c.time}:${c.id}`, 'utf8').toString('base64url');
}

/** The cursor of a token from encodeAlertCursor, or undefined when it is not one. */
export function decodeAlertCursor(token: string): AlertCursor | undefined {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const m = /^(\d{1,15}):(.+)$/s.exec(text);
  if (!m || encodeAlertCursor({ time: Number(m[1]), id: m[2] as string }) !== token) return undefined;
  return { time: Number(m[1]), id: m[2] as string };
}
