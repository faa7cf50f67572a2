import type { Trade } from '../market/trade.js';
import { tradeKey } from '../market/trade.js';
import { InputError } from '../runtime/errors.js';
import type { Headers, OutgoingRecord } from './log.js';
import {
  asBuffer,
  checkTradeIdBytes,
  decodeTrade,
  MAX_TRADE_COUNT,
  name,
  SCHEMA_HEADER,
  TRADE_SCHEMA_V1,
  tradeRecord,
} from './record.js';

/**
 * The Kafka record of several trades of one market (docs/RECORD-FORMAT.md, `trade-batch.v1`).
 *
 * Why: a Kafka client spends about the same on every record whatever its size (kafkajs's cost
 * to encode and decode one is measured in docs/BENCHMARKS.md), which capped ingest and the worker at a few tens of thousands of trades per core with one trade a
 * record. Ingest writes the trades of one market that it has at hand in one send as one record
 * (one market, so one key and one partition, as before; their order is kept), and a market
 * trading once per send still gets a plain `trade.v1` record.
 *
 * key     `<exchange>:<symbol>`, as trade.v1
 * headers `tm-schema: trade-batch.v1`
 * value   little-endian:
 *
 *   off  size  field
 *   0    1     version, = 1
 *   1    1     flags, = 0 (reserved)
 *   2    4     count of trades, u32, 1 to MAX_BATCH_TRADES
 *   6    ...   exchange, symbol, market: each a u8 byte length then UTF-8 bytes, once for all
 *   then count entries, in production order, each:
 *        1     flags: bit 0 taker side is sell, bit 1 simulated, bit 2 a trade count follows
 *        8     eventTime, float64 ms
 *        8     receiveTime, float64 ms
 *        ...   tradeId, price, size: each a u8 byte length then UTF-8 bytes
 *        4     only with flag bit 2: tradeCount, u32 (1 to 2^32-1)
 *
 * The value ends exactly after the last entry; anything else is `malformed-record`.
 */
export const TRADE_BATCH_SCHEMA_V1 = 'trade-batch.v1';
export const TRADE_BATCH_VERSION = 1;
export const TRADE_BATCH_HEADERS: Headers = Object.freeze({ [SCHEMA_HEADER]: TRADE_BATCH_SCHEMA_V1 });
/** Trades in one record at most: about 40 KB of value for typical trades, far below Kafka's 1 MB default. */
export const MAX_BATCH_TRADES = 1_000;

const FLAG_SELL = 1;
const FLAG_SIMULATED = 2;
const FLAG_TRADE_COUNT = 4;
const MAX_STRING = 255;
const HEAD = 6;
/** Flags, two times, three length bytes and the optional trade count. */
const ENTRY_FIXED = 1 + 16 + 3 + 4;

/**
 * Writes `s` at `o` as a u8 byte length and its UTF-8 bytes; returns the offset after it. ASCII
 * (every decimal and id a venue prints) is copied by a loop: cheaper than a native call for a
 * string of a few bytes. `buf` has room for 3 bytes per UTF-16 unit.
 */
function putString(buf: Buffer, o: number, s: string, field: string): number {
  const n = s.length;
  if (n <= MAX_STRING) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      buf[o + 1 + i] = c;
    }
    if (i === n) {
      buf[o] = n;
      return o + 1 + n;
    }
  }
  const len = Buffer.byteLength(s, 'utf8');
  if (len > MAX_STRING) throw new InputError('field-too-long', `trade ${field} is longer than ${MAX_STRING} bytes`);
  buf[o] = len;
  buf.write(s, o + 1, len, 'utf8');
  return o + 1 + len;
}

/**
 * The value bytes of `trades` (1 to MAX_BATCH_TRADES of one market, in production order). Throws
 * InputError `field-too-long`, `bad-trade-count`, or `mixed-markets` when they are not one market.
 */
export function encodeTradeBatch(trades: readonly Trade[]): Buffer {
  const first = trades[0];
  if (first === undefined || trades.length > MAX_BATCH_TRADES) {
    throw new InputError('bad-batch', `a trade batch holds 1 to ${MAX_BATCH_TRADES} trades`);
  }
  let bound = HEAD + 3 + 3 * (first.exchange.length + first.symbol.length + first.market.length);
  for (const t of trades) bound += ENTRY_FIXED + 3 * (t.tradeId.length + t.price.length + t.size.length);
  const buf = Buffer.allocUnsafe(bound);
  buf[0] = TRADE_BATCH_VERSION;
  buf[1] = 0;
  buf.writeUInt32LE(trades.length, 2);
  let o = putString(buf, HEAD, first.exchange, 'exchange');
  o = putString(buf, o, first.symbol, 'symbol');
  o = putString(buf, o, first.market, 'market');
  for (const t of trades) {
    if (t.symbol !== first.symbol || t.exchange !== first.exchange || t.market !== first.market) {
      throw new InputError('mixed-markets', 'a trade batch holds the trades of one market');
    }
    const count = t.tradeCount;
    const counted = count !== undefined && count !== 1;
    if (counted && !(Number.isInteger(count) && count >= 1 && count <= MAX_TRADE_COUNT)) {
      throw new InputError('bad-trade-count', `trade tradeCount is not an integer from 1 to ${MAX_TRADE_COUNT}`);
    }
    buf[o] =
      (t.side === 'sell' ? FLAG_SELL : 0) |
      (t.simulated === true ? FLAG_SIMULATED : 0) |
      (counted ? FLAG_TRADE_COUNT : 0);
    buf.writeDoubleLE(t.eventTime, o + 1);
    buf.writeDoubleLE(t.receiveTime, o + 9);
    o = putString(buf, o + 17, t.tradeId, 'tradeId');
    o = putString(buf, o, t.price, 'price');
    o = putString(buf, o, t.size, 'size');
    if (counted) {
      buf.writeUInt32LE(count, o);
      o += 4;
    }
  }
  return buf.subarray(0, o);
}

/**
 * The records for trades of one market in production order: one `trade.v1` record for a single
 * trade (byte for byte what ingest wrote before batches existed), else `trade-batch.v1` records
 * of at most MAX_BATCH_TRADES each.
 */
export function marketRecords(trades: readonly Trade[], out: OutgoingRecord[]): void {
  const first = trades[0];
  if (first === undefined) return;
  if (trades.length === 1) {
    out.push(tradeRecord(first));
    return;
  }
  const key = tradeKey(first);
  for (let i = 0; i < trades.length; i += MAX_BATCH_TRADES) {
    const part = trades.length <= MAX_BATCH_TRADES ? trades : trades.slice(i, i + MAX_BATCH_TRADES);
    out.push({ key, value: encodeTradeBatch(part), headers: TRADE_BATCH_HEADERS });
  }
}

/** The records for `trades` of any markets, as ingest's sink writes one send of them: marketRecords per market. */
export function recordsByMarket(trades: Iterable<Trade>): OutgoingRecord[] {
  // By exchange, then symbol: the trades' own strings as keys, no `exchange:symbol` built per trade.
  const byExchange = new Map<string, Map<string, Trade[]>>();
  for (const t of trades) {
    let bySymbol = byExchange.get(t.exchange);
    if (!bySymbol) {
      bySymbol = new Map();
      byExchange.set(t.exchange, bySymbol);
    }
    const list = bySymbol.get(t.symbol);
    if (list) list.push(t);
    else bySymbol.set(t.symbol, [t]);
  }
  const out: OutgoingRecord[] = [];
  for (const bySymbol of byExchange.values()) for (const list of bySymbol.values()) marketRecords(list, out);
  return out;
}

/**
 * buf[s, e) as a string. The decimals and ids of a trade are a few ASCII bytes: one
 * String.fromCharCode call with the bytes as arguments makes them several times cheaper than
 * Buffer#toString, a native call per string, which was the largest single cost of the worker's
 * decoding (docs/BENCHMARKS.md). Anything else goes through UTF-8.
 */
export function text(b: Buffer, s: number, e: number): string {
  const n = e - s;
  if (n > 24) return b.toString('utf8', s, e);
  let or = 0;
  for (let i = s; i < e; i++) or |= b[i] as number;
  if (or > 0x7f) return b.toString('utf8', s, e);
  if (n > 8) return text(b, s, s + 8) + text(b, s + 8, e);
  switch (n) {
    case 0:
      return '';
    case 1:
      return String.fromCharCode(b[s] as number);
    case 2:
      return String.fromCharCode(b[s] as number, b[s + 1] as number);
    case 3:
      return String.fromCharCode(b[s] as number, b[s + 1] as number, b[s + 2] as number);
    case 4:
      return String.fromCharCode(b[s] as number, b[s + 1] as number, b[s + 2] as number, b[s + 3] as number);
    case 5:
      return String.fromCharCode(
        b[s] as number,
        b[s + 1] as number,
        b[s + 2] as number,
        b[s + 3] as number,
        b[s + 4] as number,
      );
    case 6:
      return String.fromCharCode(
        b[s] as number,
        b[s + 1] as number,
        b[s + 2] as number,
        b[s + 3] as number,
        b[s + 4] as number,
        b[s + 5] as number,
      );
    case 7:
      return String.fromCharCode(
        b[s] as number,
        b[s + 1] as number,
        b[s + 2] as number,
        b[s + 3] as number,
        b[s + 4] as number,
        b[s + 5] as number,
        b[s + 6] as number,
      );
    default:
      return String.fromCharCode(
        b[s] as number,
        b[s + 1] as number,
        b[s + 2] as number,
        b[s + 3] as number,
        b[s + 4] as number,
        b[s + 5] as number,
        b[s + 6] as number,
        b[s + 7] as number,
      );
  }
}

function malformed(message: string): InputError {
  return new InputError('malformed-record', message);
}

const EMPTY = Buffer.alloc(0);

/**
 * Reads `trade-batch.v1` values in place, one record after another: read() checks a value
 * whole, as decodeTradeBatch does (the same errors, before any trade is taken), and keeps each
 * entry's times, flags and where its trade id, price and size lie in the value, so that a
 * consumer takes the numbers from the bytes and makes only the strings it needs (the worker's
 * hot path). What it holds is valid until the next read(); trade(k) is the entry as a Trade.
 */
export class TradeBatchReader {
  /** The value last read. */
  bytes: Buffer = EMPTY;
  count = 0;
  exchange = '';
  symbol = '';
  market = '';
  /** Per entry: its flags byte, and its trade count (0: the entry has none, it is one trade). */
  readonly flags = new Uint8Array(MAX_BATCH_TRADES);
  readonly tradeCount = new Uint32Array(MAX_BATCH_TRADES);
  readonly eventTime = new Float64Array(MAX_BATCH_TRADES);
  readonly receiveTime = new Float64Array(MAX_BATCH_TRADES);
  /** Per entry: byte offsets of its trade id (printable ASCII, checked), price and size in `bytes`. */
  readonly idStart = new Int32Array(MAX_BATCH_TRADES);
  readonly idEnd = new Int32Array(MAX_BATCH_TRADES);
  readonly priceStart = new Int32Array(MAX_BATCH_TRADES);
  readonly priceEnd = new Int32Array(MAX_BATCH_TRADES);
  readonly sizeStart = new Int32Array(MAX_BATCH_TRADES);
  readonly sizeEnd = new Int32Array(MAX_BATCH_TRADES);

  /**
   * Reads a `trade-batch.v1` value. Throws InputError `unsupported-schema` or
   * `malformed-record`, or `bad-trade-id` / `bad-symbol` as decodeTrade; after a throw the
   * reader holds no record (count 0).
   */
  read(value: Uint8Array): void {
    this.count = 0;
    const buf = asBuffer(value);
    const len = buf.length;
    if (len < HEAD + 3) throw malformed('trade batch is shorter than its head');
    if (buf[0] !== TRADE_BATCH_VERSION)
      throw new InputError('unsupported-schema', 'trade batch has an unknown version');
    const count = buf.readUInt32LE(2);
    if (count === 0 || count > MAX_BATCH_TRADES) throw malformed('trade batch count is out of range');
    let s = HEAD + 1;
    let o = s + (buf[HEAD] as number);
    if (o >= len) throw malformed('trade batch ends inside its market');
    const exchange = name(buf, s, o);
    s = o + 1;
    o = s + (buf[o] as number);
    if (o >= len) throw malformed('trade batch ends inside its market');
    const symbol = name(buf, s, o);
    s = o + 1;
    o = s + (buf[o] as number);
    if (o > len) throw malformed('trade batch ends inside its market');
    const market = name(buf, s, o);
    // DataView reads of unaligned float64s inline; Buffer#readDoubleLE copies through an array.
    const view = new DataView(buf.buffer, buf.byteOffset, len);
    const { flags: flagsOf, tradeCount, eventTime, receiveTime, idStart, idEnd, priceStart, priceEnd } = this;
    const { sizeStart, sizeEnd } = this;
    for (let k = 0; k < count; k++) {
      // Flags, two times and the tradeId's length byte.
      if (o + 18 > len) throw malformed('trade batch ends inside an entry');
      const flags = buf[o] as number;
      flagsOf[k] = flags;
      eventTime[k] = view.getFloat64(o + 1, true);
      receiveTime[k] = view.getFloat64(o + 9, true);
      s = o + 18;
      o = s + (buf[o + 17] as number);
      if (o >= len) throw malformed('trade batch ends inside an entry');
      checkTradeIdBytes(buf, s, o);
      idStart[k] = s;
      idEnd[k] = o;
      s = o + 1;
      o = s + (buf[o] as number);
      if (o >= len) throw malformed('trade batch ends inside an entry');
      priceStart[k] = s;
      priceEnd[k] = o;
      s = o + 1;
      o = s + (buf[o] as number);
      if (o > len) throw malformed('trade batch ends inside an entry');
      sizeStart[k] = s;
      sizeEnd[k] = o;
      tradeCount[k] = 0;
      if ((flags & FLAG_TRADE_COUNT) !== 0) {
        if (o + 4 > len) throw malformed('trade batch ends inside an entry');
        const n = buf.readUInt32LE(o);
        if (n === 0) throw malformed('trade batch entry has a trade count of 0');
        tradeCount[k] = n;
        o += 4;
      }
    }
    if (o !== len) throw malformed('trade batch is longer than its entries');
    this.bytes = buf;
    this.exchange = exchange;
    this.symbol = symbol;
    this.market = market;
    this.count = count;
  }

  /** True when entry k's taker sold. */
  sell(k: number): boolean {
    return ((this.flags[k] as number) & FLAG_SELL) !== 0;
  }

  /** The trade id of entry k. */
  tradeId(k: number): string {
    return text(this.bytes, this.idStart[k] as number, this.idEnd[k] as number);
  }

  /** Entry k as the Trade decodeTradeBatch gives. */
  trade(k: number): Trade {
    const b = this.bytes;
    const flags = this.flags[k] as number;
    const t: { -readonly [K in keyof Trade]: Trade[K] } = {
      exchange: this.exchange,
      symbol: this.symbol,
      market: this.market,
      tradeId: this.tradeId(k),
      price: text(b, this.priceStart[k] as number, this.priceEnd[k] as number),
      size: text(b, this.sizeStart[k] as number, this.sizeEnd[k] as number),
      side: (flags & FLAG_SELL) !== 0 ? 'sell' : 'buy',
      eventTime: this.eventTime[k] as number,
      receiveTime: this.receiveTime[k] as number,
    };
    if ((flags & FLAG_SIMULATED) !== 0) t.simulated = true;
    if ((flags & FLAG_TRADE_COUNT) !== 0) t.tradeCount = this.tradeCount[k] as number;
    return t;
  }
}

let scratch: TradeBatchReader | undefined;

/**
 * The trades of a `trade-batch.v1` value. Throws InputError `unsupported-schema` or
 * `malformed-record`, or `bad-trade-id` / `bad-symbol` as decodeTrade.
 */
export function decodeTradeBatch(value: Uint8Array): Trade[] {
  // Synchronous from read() to the last trade(): one reader serves every caller.
  scratch ??= new TradeBatchReader();
  const reader = scratch;
  reader.read(value);
  const trades: Trade[] = new Array(reader.count);
  for (let k = 0; k < reader.count; k++) trades[k] = reader.trade(k);
  return trades;
}

/**
 * The trades of a record on the trades topic, whichever of its schemas it has (`trade.v1`: one,
 * `trade-batch.v1`: several of one market). Throws InputError like decodeTrade.
 */
export function decodeTrades(value: Uint8Array, headers?: Headers): Trade[] {
  const schema = headers?.[SCHEMA_HEADER];
  if (schema === TRADE_BATCH_SCHEMA_V1) return decodeTradeBatch(value);
  if (schema !== undefined && schema !== TRADE_SCHEMA_V1) {
    throw new InputError('unsupported-schema', 'trade record has an unknown schema header');
  }
  return [decodeTrade(value, headers)];
}
