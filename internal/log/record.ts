import type { Trade } from '../market/trade.js';
import { tradeKey } from '../market/trade.js';
import { isPrintableBytes, MAX_NAME, MAX_TRADE_ID } from '../market/trade-fields.js';
import { InputError } from '../runtime/errors.js';
import type { Headers, OutgoingRecord } from './log.js';

/**
 * The Kafka record of a Trade (docs/RECORD-FORMAT.md is the reference; keep the two in step).
 *
 * key     `<exchange>:<symbol>` (tradeKey), so one market always lands in one partition
 * headers `tm-schema: trade.v1` (required to decode), plus `traceparent`/`tracestate` when traced
 * value   positional binary, little-endian:
 *
 *   off  size  field
 *   0    1     version, = 1 (the same version as the header; a value stays self-describing)
 *   1    1     flags: bit 0 taker side is sell, bit 1 simulated, bit 2 a trade count follows; other bits 0
 *   2    8     eventTime, ms since the Unix epoch, IEEE-754 float64 (integral, exact below 2^53)
 *   10   8     receiveTime, same encoding
 *   18   ...   six strings, each a u8 byte length then UTF-8 bytes, in this order:
 *              exchange, symbol, market, tradeId, price, size
 *   end  4     only with flag bit 2: tradeCount, u32 (1 to 2^32-1); written only when the trade has
 *              a tradeCount other than 1 (absent means 1)
 *
 * Why binary: the worker decodes every trade it reads, at a target rate per core
 * (docs/BENCHMARKS.md); fixed offsets and length-prefixed strings decode without a tokenizer and
 * the value is about half the size of the same JSON.
 * Decimals stay strings, byte for byte as the venue printed them.
 *
 * Evolution: a reader refuses a version it does not know (InputError reason `unsupported-schema`),
 * so a new layout gets a new version (header `trade.v2`, first byte 2), never a silent change.
 * The trade count (flag bit 2) was added within v1 as an optional tail: every value written before
 * it still decodes, and a reader from before it refuses a value carrying one as `malformed-record`
 * (its length check), so it is never misread.
 */
export const SCHEMA_HEADER = 'tm-schema';
export const TRADE_SCHEMA_V1 = 'trade.v1';
export const TRADE_VERSION = 1;
export const TRADE_HEADERS: Headers = Object.freeze({ [SCHEMA_HEADER]: TRADE_SCHEMA_V1 });

const FLAG_SELL = 1;
const FLAG_SIMULATED = 2;
const FLAG_TRADE_COUNT = 4;
const FIXED = 18;
const MAX_STRING = 255;
/** The largest Trade.tradeCount a trade.v1 value can carry (u32). */
export const MAX_TRADE_COUNT = 0xffff_ffff;

function byteLength(s: string, field: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > MAX_STRING) throw new InputError('field-too-long', `trade ${field} is longer than ${MAX_STRING} bytes`);
  return n;
}

/** The value bytes of `trade` in the current version. Throws InputError `field-too-long` or `bad-trade-count`. */
export function encodeTrade(trade: Trade): Buffer {
  const le = byteLength(trade.exchange, 'exchange');
  const ls = byteLength(trade.symbol, 'symbol');
  const lm = byteLength(trade.market, 'market');
  const li = byteLength(trade.tradeId, 'tradeId');
  const lp = byteLength(trade.price, 'price');
  const lz = byteLength(trade.size, 'size');
  const count = trade.tradeCount;
  const counted = count !== undefined && count !== 1;
  if (counted && !(Number.isInteger(count) && count >= 1 && count <= MAX_TRADE_COUNT)) {
    throw new InputError('bad-trade-count', `trade tradeCount is not an integer from 1 to ${MAX_TRADE_COUNT}`);
  }
  const strings = FIXED + 6 + le + ls + lm + li + lp + lz;
  const buf = Buffer.allocUnsafe(counted ? strings + 4 : strings);
  buf[0] = TRADE_VERSION;
  buf[1] =
    (trade.side === 'sell' ? FLAG_SELL : 0) |
    (trade.simulated === true ? FLAG_SIMULATED : 0) |
    (counted ? FLAG_TRADE_COUNT : 0);
  buf.writeDoubleLE(trade.eventTime, 2);
  buf.writeDoubleLE(trade.receiveTime, 10);
  let o = FIXED;
  buf[o++] = le;
  o += buf.write(trade.exchange, o, le, 'utf8');
  buf[o++] = ls;
  o += buf.write(trade.symbol, o, ls, 'utf8');
  buf[o++] = lm;
  o += buf.write(trade.market, o, lm, 'utf8');
  buf[o++] = li;
  o += buf.write(trade.tradeId, o, li, 'utf8');
  buf[o++] = lp;
  o += buf.write(trade.price, o, lp, 'utf8');
  buf[o++] = lz;
  o += buf.write(trade.size, o, lz, 'utf8');
  if (counted) buf.writeUInt32LE(count, o);
  return buf;
}

/** The record to append for `trade`: key, value and schema header. */
export function tradeRecord(trade: Trade): OutgoingRecord {
  return { key: tradeKey(trade), value: encodeTrade(trade), headers: TRADE_HEADERS };
}

/** exchange, symbol and market of one market, decoded once and shared by its trades. */
interface MarketIdentity {
  readonly bytes: Buffer;
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
}

/**
 * Identities by a hash of their encoded bytes (a hit is checked byte for byte). Every trade of a
 * market carries the same three strings: decoding them once per market instead of once per
 * trade saves three string allocations per record on the worker's hot path. Bounded: cleared
 * when it would hold more than IDENTITY_CACHE markets.
 */
const identities = new Map<number, MarketIdentity>();
const IDENTITY_CACHE = 50_000;

/** The identity encoded in buf[from, to): three length-prefixed strings whose bounds the caller checked. */
function identity(buf: Buffer, from: number, to: number): MarketIdentity {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  const hit = identities.get(h);
  if (hit !== undefined && hit.bytes.length === to - from) {
    let i = from;
    for (let j = 0; i < to && buf[i] === hit.bytes[j]; i++, j++);
    if (i === to) return hit;
  }
  let s = from + 1;
  let o = s + (buf[from] as number);
  const exchange = name(buf, s, o);
  s = o + 1;
  o = s + (buf[o] as number);
  const symbol = name(buf, s, o);
  s = o + 1;
  o = s + (buf[o] as number);
  const market = name(buf, s, o);
  const id: MarketIdentity = { bytes: Buffer.from(buf.subarray(from, to)), exchange, symbol, market };
  if (identities.size >= IDENTITY_CACHE) identities.clear();
  identities.set(h, id);
  return id;
}

/**
 * An exchange, symbol or market: printable ASCII of at most MAX_NAME bytes (trade-fields.ts), or
 * InputError `bad-symbol`. Ingest never writes anything else; a record that holds more was
 * written by something else, and its bytes must not reach the store (PostgreSQL refuses a NUL).
 */
export function name(buf: Buffer, from: number, to: number): string {
  if (!isPrintableBytes(buf, from, to, MAX_NAME)) {
    throw new InputError('bad-symbol', 'trade exchange, symbol or market is not printable ASCII');
  }
  return buf.toString('latin1', from, to);
}

/** A trade id: printable ASCII of at most MAX_TRADE_ID bytes, or InputError `bad-trade-id`. */
export function checkTradeIdBytes(buf: Uint8Array, from: number, to: number): void {
  if (!isPrintableBytes(buf, from, to, MAX_TRADE_ID)) {
    throw new InputError('bad-trade-id', 'trade id is not 1 to 128 printable ASCII characters');
  }
}

/** `value` as a Buffer over the same memory (no copy). */
export function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * Decodes a trade record value. `headers`, when given, must name a schema this reader knows.
 * Throws InputError (`unsupported-schema` or `malformed-record`) on anything else, and
 * `bad-trade-id` or `bad-symbol` for a trade id, exchange, symbol or market that is not
 * printable ASCII (trade-fields.ts): a consumer counts and keeps such records as data errors, it
 * never crashes on them.
 */
export function decodeTrade(value: Uint8Array, headers?: Headers): Trade {
  const schema = headers?.[SCHEMA_HEADER];
  if (schema !== undefined && schema !== TRADE_SCHEMA_V1) {
    throw new InputError('unsupported-schema', 'trade record has an unknown schema header');
  }
  const buf = asBuffer(value);
  const len = buf.length;
  if (len < FIXED + 6) throw new InputError('malformed-record', 'trade record is shorter than its fixed part');
  if (buf[0] !== TRADE_VERSION) throw new InputError('unsupported-schema', 'trade record has an unknown version byte');
  const flags = buf[1] as number;
  const counted = (flags & FLAG_TRADE_COUNT) !== 0;
  // The strings end where the optional trade count begins.
  const end = counted ? len - 4 : len;
  const eventTime = buf.readDoubleLE(2);
  const receiveTime = buf.readDoubleLE(10);
  let o = FIXED;
  o += 1 + (buf[o] as number);
  if (o >= end) throw truncated();
  o += 1 + (buf[o] as number);
  if (o >= end) throw truncated();
  o += 1 + (buf[o] as number);
  if (o >= end) throw truncated();
  const { exchange, symbol, market } = identity(buf, FIXED, o);
  let s = o + 1;
  o = s + (buf[o] as number);
  if (o >= end) throw truncated();
  checkTradeIdBytes(buf, s, o);
  const tradeId = buf.toString('latin1', s, o);
  s = o + 1;
  o = s + (buf[o] as number);
  if (o >= end) throw truncated();
  const price = buf.toString('utf8', s, o);
  s = o + 1;
  o = s + (buf[o] as number);
  if (o !== end) throw truncated();
  const size = buf.toString('utf8', s, o);
  const side = (flags & FLAG_SELL) !== 0 ? 'sell' : 'buy';
  const simulated = (flags & FLAG_SIMULATED) !== 0;
  if (!counted) {
    if (simulated) {
      return { exchange, symbol, market, tradeId, price, size, side, eventTime, receiveTime, simulated: true };
    }
    return { exchange, symbol, market, tradeId, price, size, side, eventTime, receiveTime };
  }
  const tradeCount = buf.readUInt32LE(end);
  if (tradeCount === 0) throw new InputError('malformed-record', 'trade record has a trade count of 0');
  if (simulated) {
    return {
      exchange,
      symbol,
      market,
      tradeId,
      price,
      size,
      side,
      eventTime,
      receiveTime,
      simulated: true,
      tradeCount,
    };
  }
  return { exchange, symbol, market, tradeId, price, size, side, eventTime, receiveTime, tradeCount };
}

function truncated(): InputError {
  return new InputError('malformed-record', 'trade record string lengths do not match its size');
}
