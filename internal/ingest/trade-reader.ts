import type { TakerSide, Trade } from '../market/trade.js';
import { isObject, type ParseOutput, type SymbolTable } from './venue.js';

/** One trade of a venue message, once known to be a JSON object. */
export type RawTrade = Record<string, unknown>;

/**
 * One field of a venue's trade: `read` gives its value in Trade's form, or undefined when the
 * venue's value is not a valid one; then the trade is rejected with the constant `invalid`.
 */
export interface TradeField<T> {
  readonly read: (raw: RawTrade) => T | undefined;
  readonly invalid: string;
}

/**
 * Where a venue keeps each Trade field in one trade of its messages, and how it writes it: all an
 * adapter says about a trade. Reading, checking and rejecting are tradeReader's.
 */
export interface TradeLayout {
  /** The venue's symbol; a trade without one is `malformed-frame`. */
  readonly symbol: TradeField<string>;
  /** Reject message for a symbol the feed did not subscribe (`unknown-symbol`). */
  readonly unsubscribed: string;
  readonly tradeId: TradeField<string>;
  /**
   * Exchange trades the message stands for (Trade.tradeCount), given its trade id: null when
   * the venue says nothing of it (no tradeCount), undefined when what it says is not a count
   * that fits the id (`malformed-frame`).
   */
  readonly tradeCount?: {
    readonly read: (raw: RawTrade, tradeId: string) => number | null | undefined;
    readonly invalid: string;
  };
  readonly price: TradeField<string>;
  readonly size: TradeField<string>;
  readonly eventTime: TradeField<number>;
  readonly side: TradeField<TakerSide>;
}

/**
 * For rows of a REST answer, read with a TradeReader: a row that is not a trade is left out of
 * the answer's trades, not rejected (the gap it leaves stays recorded).
 */
export const SKIP_REJECTS: ParseOutput = { trade: () => {}, reject: () => {} };

/** Reads one trade of a message: the Trade, or undefined after one reject on `out`. */
export type TradeReader = (raw: unknown, receiveTime: number, out: ParseOutput) => Trade | undefined;

/**
 * The reader of a venue's trades. Every check, in this order, ends a trade that fails it with
 * exactly one reject: not an object or no symbol (`malformed-frame`), symbol not subscribed
 * (`unknown-symbol`), trade id (`bad-trade-id`), trade count (`malformed-frame`), price
 * (`bad-price`), size (`bad-size`), event time (`bad-time`), side (`bad-side`). Whether a price
 * is a valid decimal or a time plausible is the processor's check (validate.ts), the same for
 * every venue.
 */
export function tradeReader(venue: string, table: SymbolTable, layout: TradeLayout): TradeReader {
  const { symbol: symbolField, tradeId: idField, tradeCount: countField, price: priceField } = layout;
  const { size: sizeField, eventTime: timeField, side: sideField } = layout;
  const readSymbol = symbolField.read,
    readId = idField.read,
    readPrice = priceField.read;
  const readSize = sizeField.read,
    readTime = timeField.read,
    readSide = sideField.read;
  return (raw, receiveTime, out) => {
    if (!isObject(raw)) {
      out.reject('malformed-frame', 'trade is not an object');
      return undefined;
    }
    const symbol = readSymbol(raw);
    if (symbol === undefined) {
      out.reject('malformed-frame', symbolField.invalid);
      return undefined;
    }
    const market = table.market(symbol);
    if (market === undefined) {
      out.reject('unknown-symbol', layout.unsubscribed, symbol);
      return undefined;
    }
    const tradeId = readId(raw);
    if (tradeId === undefined) {
      out.reject('bad-trade-id', idField.invalid, symbol);
      return undefined;
    }
    const tradeCount = countField === undefined ? null : countField.read(raw, tradeId);
    if (tradeCount === undefined) {
      out.reject('malformed-frame', (countField as { invalid: string }).invalid, symbol);
      return undefined;
    }
    const price = readPrice(raw);
    if (price === undefined) {
      out.reject('bad-price', priceField.invalid, symbol);
      return undefined;
    }
    const size = readSize(raw);
    if (size === undefined) {
      out.reject('bad-size', sizeField.invalid, symbol);
      return undefined;
    }
    const eventTime = readTime(raw);
    if (eventTime === undefined) {
      out.reject('bad-time', timeField.invalid, symbol);
      return undefined;
    }
    const side = readSide(raw);
    if (side === undefined) {
      out.reject('bad-side', sideField.invalid, symbol);
      return undefined;
    }
    return tradeCount === null
      ? { exchange: venue, symbol, market, tradeId, price, size, side, eventTime, receiveTime }
      : { exchange: venue, symbol, market, tradeId, price, size, side, eventTime, receiveTime, tradeCount };
  };
}

// The ways venues write a field's value, for layouts to name: `read: (t) => text(t.p)`. A layout
// reads the property by name itself, so that each adapter's property loads stay its own
// (monomorphic), which a shared `raw[key]` would not.

const DIGITS = /^\d{1,15}$/;

/** A string. */
export function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A string that is not empty. */
export function nonEmptyText(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** A string of 1 to 15 digits (below 2^53, so it reads as a number exactly), as it is written. */
export function digits(v: unknown): string | undefined {
  return typeof v === 'string' && DIGITS.test(v) ? v : undefined;
}

/** A JSON number. */
export function jsonNumber(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Epoch milliseconds written as a string of digits. */
export function epochMsText(v: unknown): number | undefined {
  return typeof v === 'string' && DIGITS.test(v) ? Number(v) : undefined;
}

/** An RFC 3339 timestamp, as epoch milliseconds. */
export function rfc3339(v: unknown): number | undefined {
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The taker's side from a value the venue writes as one of two: `buy` where the taker bought,
 * `sell` where it sold (a venue that gives the maker's side passes them the other way round).
 */
export function takerSide(v: unknown, buy: unknown, sell: unknown): TakerSide | undefined {
  return v === buy ? 'buy' : v === sell ? 'sell' : undefined;
}
