import { MAX_SCALE, POW10 } from '../../actor/decimal.js';
import { text } from '../../log/trade-batch.js';
import type { Trade } from '../../market/trade.js';
import {
  DEFAULT_MAX_EVENT_SKEW_MS,
  isFutureDated,
  isPrintableBytes,
  isPrintableText,
  MAX_NAME,
} from '../../market/trade-fields.js';
import { CHECK_MESSAGES, checkTrade, isPlausibleTime } from '../validate.js';
import { type MarketResolver, venueOfTardis } from './market-of.js';
import type { TardisRow } from './tardis-row.js';
import { integerAt, type LineParser, reject, type TradeFileItem } from './trade-file.js';

/** Whether the bytes b[start, end) are the ASCII string `s` (false for any byte past ASCII). */
function asciiEquals(b: Uint8Array, start: number, end: number, s: string): boolean {
  if (end - start !== s.length) return false;
  for (let i = start; i < end; i++) {
    const c = b[i] as number;
    if (c > 0x7f || c !== s.charCodeAt(i - start)) return false;
  }
  return true;
}

/** Whether `text.slice(start, end)` is `s`, without the slice. */
function holds(text: string, start: number, end: number, s: string): boolean {
  return end - start === s.length && text.startsWith(s, start);
}

const REQUIRED = ['exchange', 'symbol', 'timestamp', 'id', 'side', 'price', 'amount'] as const;

/** What scan does with each column; 0 for a column it skips. */
const EXCHANGE = 1;
const SYMBOL = 2;
const TIMESTAMP = 3;
const LOCAL_TIMESTAMP = 4;
const ID = 5;
const SIDE = 6;
const PRICE = 7;
const AMOUNT = 8;
const KIND_OF: Readonly<Record<string, number>> = {
  exchange: EXCHANGE,
  symbol: SYMBOL,
  timestamp: TIMESTAMP,
  local_timestamp: LOCAL_TIMESTAMP,
  id: ID,
  side: SIDE,
  price: PRICE,
  amount: AMOUNT,
};

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A symbol as parse hands it out, and whether checkTrade passes it (a market, printable). */
interface KnownSymbol {
  readonly venue: string;
  readonly symbol: string;
  readonly market: string;
  readonly ok: boolean;
}

/**
 * tardis.dev `trades` CSV: a header, then `exchange,symbol,timestamp,local_timestamp,id,side,
 * price,amount` with times in µs since the epoch and the taker side (`buy`, `sell`; `unknown`
 * is rejected as bad-side). Columns are found by name, so their order may differ.
 *
 * Rows are read in place: the fields are located in the block, times parsed from its digits,
 * and the exchange and symbol strings reused (one per market), so a row costs its trade id,
 * price and size strings and the Trade.
 */
export class TardisParser implements LineParser {
  private columns: Record<string, number> | undefined;
  private width = 0;
  /** Start of each field in the current row, and one past the row's end at [width]. */
  private at = new Int32Array(1);
  // '\n' never occurs in a field: it marks "nothing cached yet".
  private exchangeText = '\n';
  private venue = '';
  private symbolText = '\n';
  private market = '';
  /**
   * One string per venue and symbol, handed out in every trade of that market: consumers that
   * key maps by it hash it once (V8 keeps a string's hash), not once per row.
   */
  private readonly symbols = new Map<string, Map<string, KnownSymbol>>();
  /** The same symbols by a hash of their bytes (scan); a collision keeps the last one. */
  private readonly symbolsByHash = new Map<number, KnownSymbol>();
  /** Per column, what scan reads from it (OTHER, EXCHANGE, ...). */
  private kinds: Uint8Array | undefined;
  private symbolOk = false;

  constructor(
    private readonly markets: MarketResolver,
    private readonly exchange?: string,
    private readonly symbol?: string,
  ) {}

  parse(text: string, start: number, end: number, n: number): TradeFileItem | undefined {
    if (end === start) return undefined;
    const cols = this.columns;
    if (cols === undefined) return this.header(text.slice(start, end), n);
    const width = this.width;
    const at = this.at;
    at[0] = start;
    let k = 1;
    for (let c = text.indexOf(',', start); c >= 0 && c < end; c = text.indexOf(',', c + 1)) {
      if (k === width) return this.badColumns(text.slice(start, end), n);
      at[k++] = c + 1;
    }
    if (k !== width) return this.badColumns(text.slice(start, end), n);
    at[width] = end + 1;

    const ex = cols.exchange as number;
    const exStart = at[ex] as number;
    const exEnd = (at[ex + 1] as number) - 1;
    if (!holds(text, exStart, exEnd, this.exchangeText)) {
      this.exchangeText = text.slice(exStart, exEnd);
      this.venue = venueOfTardis(this.exchangeText);
      this.symbolText = '\n';
    }
    const venue = this.venue;
    if (this.exchange !== undefined && venue !== this.exchange) return undefined;
    const sy = cols.symbol as number;
    const syStart = at[sy] as number;
    const syEnd = (at[sy + 1] as number) - 1;
    if (!holds(text, syStart, syEnd, this.symbolText)) {
      const sliced = text.slice(syStart, syEnd);
      let symbols = this.symbols.get(venue);
      if (symbols === undefined) {
        symbols = new Map();
        this.symbols.set(venue, symbols);
      }
      let known = symbols.get(sliced);
      if (known === undefined) {
        const market = this.markets.resolve(venue, sliced) ?? '';
        known = { venue, symbol: sliced, market, ok: market !== '' && isPrintableText(sliced, MAX_NAME) };
        symbols.set(sliced, known);
      }
      this.symbolText = known.symbol;
      this.market = known.market;
      this.symbolOk = known.ok;
    }
    const symbol = this.symbolText;
    if (this.symbol !== undefined && symbol !== this.symbol) return undefined;

    const ts = cols.timestamp as number;
    const us = integerAt(text, at[ts] as number, (at[ts + 1] as number) - 1);
    const lc = cols.local_timestamp;
    const localUs = lc === undefined ? us : integerAt(text, at[lc] as number, (at[lc + 1] as number) - 1);
    const sd = cols.side as number;
    const sideStart = at[sd] as number;
    const sideLen = (at[sd + 1] as number) - 1 - sideStart;
    const side =
      sideLen === 3 && text.startsWith('buy', sideStart)
        ? 'buy'
        : sideLen === 4 && text.startsWith('sell', sideStart)
          ? 'sell'
          : (text.slice(sideStart, sideStart + sideLen) as 'buy');
    const id = cols.id as number;
    const pr = cols.price as number;
    const am = cols.amount as number;
    const trade: Trade = {
      exchange: venue,
      symbol,
      market: this.market,
      tradeId: text.slice(at[id] as number, (at[id + 1] as number) - 1),
      price: text.slice(at[pr] as number, (at[pr + 1] as number) - 1),
      size: text.slice(at[am] as number, (at[am + 1] as number) - 1),
      side,
      eventTime: Math.floor(us / 1000),
      receiveTime: Number.isNaN(localUs) ? Math.floor(us / 1000) : Math.floor(localUs / 1000),
    };
    const bad = checkTrade(trade);
    return bad === undefined
      ? { kind: 'trade', line: n, trade }
      : reject(n, bad, CHECK_MESSAGES[bad], text.slice(start, end));
  }

  private header(line: string, n: number): TradeFileItem | undefined {
    const f = line.split(',');
    const names: Record<string, number> = {};
    f.forEach((name, i) => {
      names[name.trim()] = i;
    });
    const missing = REQUIRED.filter((c) => names[c] === undefined);
    if (missing.length > 0) return reject(n, 'bad-header', `tardis header lacks ${missing.join(', ')}`, line);
    this.columns = names;
    this.width = f.length;
    this.at = new Int32Array(f.length + 1);
    const kinds = new Uint8Array(f.length);
    for (const [name, kind] of Object.entries(KIND_OF)) {
      const i = names[name];
      if (i !== undefined) kinds[i] = kind;
    }
    this.kinds = kinds;
    return undefined;
  }

  /**
   * parse's fast path for the row that starts at byte `start` of `b` (whole lines, UTF-8): reads
   * it in place into `row` and returns the index past its line terminator, or -1 when parse must
   * read it (the header, a blank line, a reject, a row filtered out, an exchange or symbol not
   * seen yet, any byte outside printable ASCII, anything unusual). For every row it accepts,
   * row.toTrade() is the trade parse gives for the line, and the decimals and id are parsed as
   * the actor parses that trade's strings (MarketActor.onTrade).
   */
  scan(b: Buffer, start: number, row: TardisRow): number {
    const kinds = this.kinds;
    if (kinds === undefined) return -1;
    const width = this.width;
    const n = b.length;
    let p = start;
    let exStart = 0;
    let exEnd = 0;
    let syStart = 0;
    let syEnd = 0;
    let us = 0;
    let localUs = -1;
    let next = -1;
    for (let k = 0; k < width; k++) {
      const s = p;
      const kind = kinds[k];
      let c = 0;
      if (kind === PRICE || kind === AMOUNT) {
        // isPositiveDecimal and parseDecimal (actor/decimal.ts) in one pass.
        let v = 0;
        let int = 0;
        let frac = -1;
        let nonzero = false;
        while (p < n) {
          c = b[p] as number;
          if (c >= 48 && c <= 57) {
            v = v * 10 + (c - 48);
            if (c !== 48) nonzero = true;
            if (frac < 0) int++;
            else frac++;
          } else if (c === 46 && frac < 0) {
            frac = 0;
          } else {
            break;
          }
          p++;
        }
        if (!nonzero || int === 0 || int > 30 || frac === 0 || frac > 30 || v > MAX_SAFE) return -1;
        const printed = frac < 0 ? 0 : frac;
        // parseDecimal's trailing-zero strip, read from the digits instead of `v % 10`.
        let scale = printed;
        while (scale > 0 && b[s + int + scale] === 48) scale--;
        if (scale < printed) v /= POW10[printed - scale] as number;
        if (scale > MAX_SCALE) return -1;
        if (kind === PRICE) {
          row.priceValue = v;
          row.priceScale = scale;
          row.priceDecimals = printed;
          row.priceStart = s;
          row.priceEnd = p;
        } else {
          row.sizeValue = v;
          row.sizeScale = scale;
          row.sizeDecimals = printed;
          row.sizeStart = s;
          row.sizeEnd = p;
        }
      } else if (kind === TIMESTAMP || kind === LOCAL_TIMESTAMP) {
        let v = 0;
        while (p < n) {
          c = (b[p] as number) - 48;
          if (c < 0 || c > 9) break;
          v = v * 10 + c;
          p++;
        }
        if (p === s || p - s > 16 || v > MAX_SAFE) return -1;
        if (kind === TIMESTAMP) us = v;
        else localUs = v;
      } else if (kind === ID) {
        // isPrintableText, and numericId (actor/market-actor.ts) when all digits.
        let v = 0;
        let digits = true;
        while (p < n) {
          c = b[p] as number;
          if (c === 44 || c < 0x21 || c > 0x7e) break;
          if (c >= 48 && c <= 57) v = v * 10 + (c - 48);
          else digits = false;
          p++;
        }
        const len = p - s;
        if (len === 0 || len > 128) return -1;
        row.idNum = digits && len <= 15 && (len === 1 || b[s] !== 48) ? v : Number.NaN;
        row.tradeId = text(b, s, p);
      } else if (kind === SIDE) {
        if (b[p] === 98 && b[p + 1] === 117 && b[p + 2] === 121) {
          row.buy = true;
          p += 3;
        } else if (b[p] === 115 && b[p + 1] === 101 && b[p + 2] === 108 && b[p + 3] === 108) {
          row.buy = false;
          p += 4;
        } else {
          return -1;
        }
      } else {
        while (p < n) {
          c = b[p] as number;
          if (c === 44 || c === 10 || c === 13) break;
          p++;
        }
        if (kind === EXCHANGE) {
          exStart = s;
          exEnd = p;
        } else if (kind === SYMBOL) {
          syStart = s;
          syEnd = p;
        }
      }
      if (k < width - 1) {
        if (p >= n || b[p] !== 44) return -1;
        p++;
      } else if (p < n) {
        c = b[p] as number;
        if (c === 10) next = p + 1;
        else if (c === 13 && p + 1 < n && b[p + 1] === 10) next = p + 2;
        else return -1;
      } else {
        next = n;
      }
    }
    if (!asciiEquals(b, exStart, exEnd, this.exchangeText)) return -1;
    if (this.exchange !== undefined && this.venue !== this.exchange) return -1;
    if (!asciiEquals(b, syStart, syEnd, this.symbolText)) {
      // A file of many markets changes symbol nearly every row: found by a hash of its bytes
      // first, without making a string.
      let h = 0x811c9dc5;
      for (let i = syStart; i < syEnd; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
      let known = this.symbolsByHash.get(h);
      if (known === undefined || known.venue !== this.venue || !asciiEquals(b, syStart, syEnd, known.symbol)) {
        if (!isPrintableBytes(b, syStart, syEnd, MAX_NAME)) return -1;
        known = this.symbols.get(this.venue)?.get(text(b, syStart, syEnd));
        if (known === undefined) return -1;
        this.symbolsByHash.set(h, known);
      }
      this.symbolText = known.symbol;
      this.market = known.market;
      this.symbolOk = known.ok;
    }
    if (!this.symbolOk || (this.symbol !== undefined && this.symbolText !== this.symbol)) return -1;
    const eventTime = Math.floor(us / 1000);
    const receiveTime = localUs < 0 ? eventTime : Math.floor(localUs / 1000);
    if (!isPlausibleTime(eventTime) || isFutureDated(eventTime, receiveTime, DEFAULT_MAX_EVENT_SKEW_MS)) return -1;
    row.exchange = this.venue;
    row.symbol = this.symbolText;
    row.market = this.market;
    row.eventTime = eventTime;
    row.receiveTime = receiveTime;
    row.bytes = b;
    return next;
  }

  private badColumns(line: string, n: number): TradeFileItem {
    return reject(n, 'bad-columns', `expected ${this.width} columns, got ${line.split(',').length}`, line);
  }
}
