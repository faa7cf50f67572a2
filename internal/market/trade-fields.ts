/**
 * The shape every trade's text fields and event time must have, wherever a trade enters: ingest
 * checks it before producing (internal/ingest/validate.ts) and the worker's record decoders check
 * it again (internal/log), so that a record no venue could have sent never reaches the store.
 *
 * Text: every venue prints its symbols and trade ids as printable ASCII (decimal ids, UUIDs,
 * `BTC-USDT`, `XBT/USD`), so a field is 1 to its limit of the bytes 0x21 to 0x7e: no control
 * character (a NUL that PostgreSQL refuses in text), no space, nothing a terminal or a log reader
 * would interpret.
 */

/** Longest trade id (Bybit's UUIDs are 36). */
export const MAX_TRADE_ID = 128;
/** Longest exchange, symbol or market. */
export const MAX_NAME = 64;

/** True when `s` is 1 to `max` characters of printable ASCII other than space (0x21-0x7e). */
export function isPrintableText(s: string, max: number): boolean {
  const n = s.length;
  if (n === 0 || n > max) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** isPrintableText over the bytes b[from, to) (UTF-8: any byte outside 0x21-0x7e fails). */
export function isPrintableBytes(b: Uint8Array, from: number, to: number, max: number): boolean {
  if (to <= from || to - from > max) return false;
  for (let i = from; i < to; i++) {
    const c = b[i] as number;
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/**
 * How far a trade's event time may lie after the moment it was received (its receiveTime, and on
 * the worker also the log's append time), by default. A venue's clock and ours agree within
 * milliseconds when both are synchronized; two minutes leaves room for a host clock that drifted
 * and still bounds what one future-dated trade can do to its market's windows. Ingest and worker
 * take it as a flag (`--max-event-skew-ms`).
 */
export const DEFAULT_MAX_EVENT_SKEW_MS = 120_000;

/**
 * True when `eventTime` lies more than `skewMs` after `clock` (a receive or append time), or
 * either is NaN (a time that bounds nothing). An infinite `clock` bounds nothing either: false.
 */
export function isFutureDated(eventTime: number, clock: number, skewMs: number): boolean {
  return !(eventTime <= clock + skewMs);
}

/** A reset's new ids lie at least this far below the last id, or its trades this far after the newest one. */
export const RESET_MIN_DROP = 1_000;
export const RESET_MIN_AHEAD_MS = 1_000;

/**
 * Whether a trade whose id a market has already seen is the venue restarting its numbering rather
 * than a repeat. A repeat is a trade accepted before, so it is never dated after the newest trade
 * accepted (`newestTime`): a trade dated later cannot be one. Two margins keep a repeat whose time
 * a venue prints differently on two channels (a REST backfill rounding a microsecond time one way,
 * the WebSocket the other) from passing for a reset: the id must lie at least RESET_MIN_DROP below
 * the last one (`drop`; NaN for ids without an order), or the trade at least RESET_MIN_AHEAD_MS
 * after the newest. A repeat is always a recent trade, neither far back in ids nor ahead in time.
 */
export function isIdReset(drop: number, eventTime: number, newestTime: number): boolean {
  if (!(eventTime > newestTime)) return false;
  return drop >= RESET_MIN_DROP || eventTime - newestTime >= RESET_MIN_AHEAD_MS;
}
