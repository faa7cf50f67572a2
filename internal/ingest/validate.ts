import type { Trade } from '../market/trade.js';
import {
  DEFAULT_MAX_EVENT_SKEW_MS,
  isFutureDated,
  isPrintableText,
  MAX_NAME,
  MAX_TRADE_ID,
} from '../market/trade-fields.js';
import type { RejectReason } from './events.js';

/**
 * True for a positive, finite decimal string such as `9682.19` or `0.00000638`: as venues print
 * them, 1 to 30 digits, an optional fraction of 1 to 30 digits, nothing else (no sign, no
 * exponent), and a digit other than 0 somewhere. That is `/^\d{1,30}(?:\.\d{1,30})?$/` and
 * `/[1-9]/` (the tests hold it to them), in one pass: two regex runs were a visible share of
 * ingest's work on a trade (docs/BENCHMARKS.md, ingest, fourth round).
 */
export function isPositiveDecimal(s: string): boolean {
  let int = 0;
  let frac = -1; // digits after the point; -1 before one
  let nonzero = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (c !== 0x30) nonzero = true;
      if (frac < 0) int++;
      else frac++;
    } else if (c === 0x2e && frac < 0) frac = 0;
    else return false;
  }
  return nonzero && int >= 1 && int <= 30 && frac !== 0 && frac <= 30;
}

/**
 * Rewrites a number's JSON source text (`1.5e-7`, `42`, `-0.1`) as a plain decimal string
 * (`0.00000015`, `42`, `-0.1`) without going through a float. For venues that send prices as
 * JSON numbers; the result still has to pass isPositiveDecimal. Returns the input unchanged when
 * it is not a JSON number.
 */
export function plainDecimal(source: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?[eE]([+-]?\d+)$/.exec(source);
  if (!m) return source;
  const [, sign, int, frac = '', expText] = m as unknown as [string, string, string, string | undefined, string];
  const exp = Number(expText);
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 60) return source;
  const digits = int + frac;
  const point = int.length + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  out = out.replace(/^0+(?=\d)/, '');
  if (out.includes('.')) out = out.replace(/\.?0+$/, '');
  return sign + out;
}

/** Earliest and latest plausible trade times: before Bitcoin's first exchange, or a century out, is a bug. */
const MIN_TIME = Date.UTC(2009, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);

/** checkTrade's test of an event time: an integer epoch millisecond in [2009, 2100]. */
export function isPlausibleTime(t: number): boolean {
  return Number.isInteger(t) && t >= MIN_TIME && t <= MAX_TIME;
}

/**
 * The checks every trade passes before it is produced, whatever its source. Returns the reason
 * of the first failed check, or undefined for a valid trade.
 *
 * The event time may lie at most `maxSkewMs` after the trade's own receive time (not the clock
 * now: a replay of old files carries the receive times of the file, so it is held to the same
 * bound). The trade id and symbol are printable ASCII of bounded length (trade-fields.ts).
 */
export function checkTrade(t: Trade, maxSkewMs = DEFAULT_MAX_EVENT_SKEW_MS): RejectReason | undefined {
  if (!isPositiveDecimal(t.price)) return 'bad-price';
  if (!isPositiveDecimal(t.size)) return 'bad-size';
  if (!isPlausibleTime(t.eventTime)) return 'bad-time';
  if (isFutureDated(t.eventTime, t.receiveTime, maxSkewMs)) return 'future-time';
  if (typeof t.tradeId !== 'string' || !isPrintableText(t.tradeId, MAX_TRADE_ID)) return 'bad-trade-id';
  if (t.side !== 'buy' && t.side !== 'sell') return 'bad-side';
  if (!t.market || !isPrintableText(t.symbol, MAX_NAME)) return 'unknown-symbol';
  return undefined;
}

export const CHECK_MESSAGES: Readonly<Record<RejectReason, string>> = {
  'malformed-frame': 'frame is not valid JSON of the expected shape',
  'malformed-line': 'file line does not have the layout of its format',
  'unknown-message': 'message type is not one this adapter knows',
  'bad-price': 'price is not a positive decimal',
  'bad-size': 'size is not a positive decimal',
  'bad-time': 'event time is not a plausible epoch millisecond',
  'future-time': 'event time is later than its receive time plus the allowed skew',
  'bad-trade-id': 'trade id is not 1 to 128 printable ASCII characters',
  'bad-side': 'taker side is neither buy nor sell',
  'unknown-symbol': 'symbol is not printable ASCII, not one this feed subscribed, or maps to no market',
  'venue-error': 'the venue reported an error',
  'bad-kline': "a push of the venue's candle channel does not have the fields of its kline",
};
