import type { Candle } from '../market/candle.js';
import type { Interval } from '../market/interval.js';
import {
  addWide,
  addWideBig,
  divideDecimal,
  formatScaled,
  formatWide,
  rescaleWide,
  wideFitsRescale,
  wideToBig,
} from './decimal.js';
import type { StateReader, StateWriter } from './state-codec.js';

/** Fractional digits of Candle.vwap (quote volume / volume, rounded half up). */
export const VWAP_DECIMALS = 12;

/** Offsets of the wide sums in CandleWindow.sums. */
export const VOLUME = 0;
export const QUOTE = 2;
export const BUY_VOLUME = 4;
export const BUY_QUOTE = 6;

/**
 * One trade, parsed once by the actor and added to a window of every interval. Prices are
 * integers at the actor's price scale, sizes at its size scale, the notional at their sum.
 */
export class ParsedTrade {
  price = 0;
  size = 0;
  /** price * size when below 2^53, else -1 and the exact product is in notionalBig. */
  notional = 0;
  notionalBig = 0n;
  buy = false;
  time = 0;
  /** The trade id as a number when it is a decimal integer below 2^53, else NaN. */
  idNum = Number.NaN;
  id = '';
  /** Exchange trades the record stands for (Trade.tradeCount, default 1). */
  count = 1;
}

/** Identity and scales a window needs to print itself as a Candle. */
export interface CandleContext {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
  priceScale: number;
  sizeScale: number;
}

const FLAG_CLOSED = 1;
const FLAG_DIRTY = 2;

/**
 * True if the trade (t1, n1, id1) comes before (t2, n2, id2): exchange time first, then the
 * trade id (numerically when both are numeric, else as strings). On Binance trade ids grow with
 * time, so this is trade id order, which is how klines pick open and close.
 */
export function tradeBefore(t1: number, n1: number, id1: string, t2: number, n2: number, id2: string): boolean {
  if (t1 !== t2) return t1 < t2;
  // biome-ignore lint/suspicious/noSelfCompare: NaN test without a call on the hot path
  if (n1 === n1 && n2 === n2) return n1 < n2;
  return id1 < id2;
}

/**
 * The exact state of one candle window [start, end). Prices are scaled integers; volumes are
 * wide integers (see decimal.ts). An empty window (count 0) that has closed holds the previous
 * close in open/high/low/close, as the exchange publishes it.
 */
export class CandleWindow {
  start: number;
  end: number;
  count = 0;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  firstTime = 0;
  firstIdNum = Number.NaN;
  firstId = '';
  lastTime = 0;
  lastIdNum = Number.NaN;
  lastId = '';
  /** Smallest numeric trade id in the window: the floor below which duplicate ids can be forgotten. */
  minIdNum = Number.POSITIVE_INFINITY;
  /** Wide sums: volume, quote volume, taker-buy volume, taker-buy quote volume (hi, lo each). */
  readonly sums = new Float64Array(8);
  revision = 0;
  closed = false;
  /** Changed since the last partial update. */
  dirty = false;

  constructor(start: number, end: number) {
    this.start = start;
    this.end = end;
  }

  add(t: ParsedTrade): void {
    const p = t.price;
    const time = t.time;
    if (this.count === 0) {
      this.open = p;
      this.high = p;
      this.low = p;
      this.close = p;
      this.firstTime = time;
      this.firstIdNum = t.idNum;
      this.firstId = t.id;
      this.lastTime = time;
      this.lastIdNum = t.idNum;
      this.lastId = t.id;
    } else {
      if (p > this.high) this.high = p;
      else if (p < this.low) this.low = p;
      if (
        time > this.lastTime ||
        (time === this.lastTime && tradeBefore(time, this.lastIdNum, this.lastId, time, t.idNum, t.id))
      ) {
        this.close = p;
        this.lastTime = time;
        this.lastIdNum = t.idNum;
        this.lastId = t.id;
      } else if (tradeBefore(time, t.idNum, t.id, this.firstTime, this.firstIdNum, this.firstId)) {
        this.open = p;
        this.firstTime = time;
        this.firstIdNum = t.idNum;
        this.firstId = t.id;
      }
    }
    if (t.idNum < this.minIdNum) this.minIdNum = t.idNum;
    this.count += t.count;
    const sums = this.sums;
    addWide(sums, VOLUME, t.size);
    if (t.notional >= 0) addWide(sums, QUOTE, t.notional);
    else addWideBig(sums, QUOTE, t.notionalBig);
    if (t.buy) {
      addWide(sums, BUY_VOLUME, t.size);
      if (t.notional >= 0) addWide(sums, BUY_QUOTE, t.notional);
      else addWideBig(sums, BUY_QUOTE, t.notionalBig);
    }
    this.dirty = true;
  }

  /**
   * Folds another window's trades into this one, exactly as if they had been added here: the
   * roll-up of a finer interval's closed window into the coarser window that contains it.
   */
  merge(o: CandleWindow): void {
    if (o.count === 0) return;
    if (this.count === 0) {
      this.open = o.open;
      this.high = o.high;
      this.low = o.low;
      this.close = o.close;
      this.firstTime = o.firstTime;
      this.firstIdNum = o.firstIdNum;
      this.firstId = o.firstId;
      this.lastTime = o.lastTime;
      this.lastIdNum = o.lastIdNum;
      this.lastId = o.lastId;
    } else {
      if (o.high > this.high) this.high = o.high;
      if (o.low < this.low) this.low = o.low;
      if (tradeBefore(o.firstTime, o.firstIdNum, o.firstId, this.firstTime, this.firstIdNum, this.firstId)) {
        this.open = o.open;
        this.firstTime = o.firstTime;
        this.firstIdNum = o.firstIdNum;
        this.firstId = o.firstId;
      }
      if (tradeBefore(this.lastTime, this.lastIdNum, this.lastId, o.lastTime, o.lastIdNum, o.lastId)) {
        this.close = o.close;
        this.lastTime = o.lastTime;
        this.lastIdNum = o.lastIdNum;
        this.lastId = o.lastId;
      }
    }
    if (o.minIdNum < this.minIdNum) this.minIdNum = o.minIdNum;
    this.count += o.count;
    const a = this.sums;
    const b = o.sums;
    for (let i = 0; i < 8; i += 2) {
      a[i] = (a[i] as number) + (b[i] as number);
      addWide(a, i, b[i + 1] as number);
    }
  }

  /** A copy with the same trades, start and revision (for merged views of open windows). */
  clone(): CandleWindow {
    const w = new CandleWindow(this.start, this.end);
    w.merge(this);
    w.revision = this.revision;
    return w;
  }

  /** Sets an empty window's prices to the previous close. */
  setFlat(price: number): void {
    this.open = price;
    this.high = price;
    this.low = price;
    this.close = price;
  }

  /** Multiplies prices by 10^k (all must stay below 2^53: the caller checks). */
  rescalePrice(k: number, factor: number): void {
    this.open *= factor;
    this.high *= factor;
    this.low *= factor;
    this.close *= factor;
    rescaleWide(this.sums, QUOTE, k);
    rescaleWide(this.sums, BUY_QUOTE, k);
  }

  /** Whether rescalePrice(k) keeps the quote sums within their 2^105 bound. */
  canRescalePrice(k: number): boolean {
    return wideFitsRescale(this.sums, QUOTE, k) && wideFitsRescale(this.sums, BUY_QUOTE, k);
  }

  /** Whether rescaleSize(k) keeps every sum within its 2^105 bound. */
  canRescaleSize(k: number): boolean {
    for (let i = 0; i < 8; i += 2) if (!wideFitsRescale(this.sums, i, k)) return false;
    return true;
  }

  rescaleSize(k: number): void {
    for (let i = 0; i < 8; i += 2) rescaleWide(this.sums, i, k);
  }

  /** The window's state for the actor's checkpoint; its end is the interval's business. */
  writeState(w: StateWriter): void {
    w.int(this.start);
    w.uint(this.count);
    w.u8((this.closed ? FLAG_CLOSED : 0) | (this.dirty ? FLAG_DIRTY : 0));
    w.uint(this.revision);
    w.uint(this.open);
    w.uint(this.high);
    w.uint(this.low);
    w.uint(this.close);
    for (let i = 0; i < 8; i++) w.uint(this.sums[i] as number);
    if (this.count > 0) {
      w.int(this.firstTime);
      writeId(w, this.firstIdNum, this.firstId);
      w.int(this.lastTime);
      writeId(w, this.lastIdNum, this.lastId);
      w.f64(this.minIdNum);
    }
  }

  /** A window from writeState() bytes; `endOf` gives its end from its start. */
  static readState(r: StateReader, endOf: (start: number) => number): CandleWindow {
    const start = r.int();
    const win = new CandleWindow(start, endOf(start));
    win.count = r.uint();
    const flags = r.u8();
    win.closed = (flags & FLAG_CLOSED) !== 0;
    win.dirty = (flags & FLAG_DIRTY) !== 0;
    win.revision = r.uint();
    win.open = r.uint();
    win.high = r.uint();
    win.low = r.uint();
    win.close = r.uint();
    for (let i = 0; i < 8; i++) win.sums[i] = r.uint();
    if (win.count > 0) {
      win.firstTime = r.int();
      [win.firstIdNum, win.firstId] = readId(r);
      win.lastTime = r.int();
      [win.lastIdNum, win.lastId] = readId(r);
      win.minIdNum = r.f64();
    }
    return win;
  }

  toCandle(ctx: CandleContext, interval: Interval, closed: boolean): Candle {
    const ps = ctx.priceScale;
    const ss = ctx.sizeScale;
    const qs = ps + ss;
    const close = formatScaled(this.close, ps);
    const empty = this.count === 0;
    const sums = this.sums;
    return {
      exchange: ctx.exchange,
      symbol: ctx.symbol,
      market: ctx.market,
      interval,
      openTime: this.start,
      closeTime: this.end - 1,
      open: formatScaled(this.open, ps),
      high: formatScaled(this.high, ps),
      low: formatScaled(this.low, ps),
      close,
      volume: formatWide(sums, VOLUME, ss),
      quoteVolume: formatWide(sums, QUOTE, qs),
      trades: this.count,
      takerBuyVolume: formatWide(sums, BUY_VOLUME, ss),
      takerBuyQuoteVolume: formatWide(sums, BUY_QUOTE, qs),
      vwap: empty ? close : divideDecimal(wideToBig(sums, QUOTE), qs, wideToBig(sums, VOLUME), ss, VWAP_DECIMALS),
      firstTradeId: empty ? '' : this.firstId,
      lastTradeId: empty ? '' : this.lastId,
      revision: this.revision,
      closed,
    };
  }
}

/** A trade id as its number when it has one (the common case, and shorter), else as text. */
function writeId(w: StateWriter, num: number, id: string): void {
  // biome-ignore lint/suspicious/noSelfCompare: NaN test
  if (num === num) {
    w.u8(1);
    w.uint(num);
  } else {
    w.u8(0);
    w.str(id);
  }
}

function readId(r: StateReader): [number, string] {
  if (r.u8() === 1) {
    const n = r.uint();
    return [n, String(n)];
  }
  return [Number.NaN, r.str()];
}
