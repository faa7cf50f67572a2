import type { Trade } from '../../market/trade.js';
import type { TradeRow } from '../../market/trade-row.js';
import type { checkTrade } from '../validate.js';

/** The trade file layouts tickmesh reads. */
export const TRADE_FILE_FORMATS = ['tardis', 'binance-trades', 'binance-aggtrades', 'jsonl'] as const;
export type TradeFileFormat = (typeof TRADE_FILE_FORMATS)[number];

export function isTradeFileFormat(s: string): s is TradeFileFormat {
  return (TRADE_FILE_FORMATS as readonly string[]).includes(s);
}

export interface TradeFileOptions {
  readonly path: string;
  readonly format: TradeFileFormat;
  /**
   * Venue id (`binance`, `binance-futures`, ...). Binance files do not name it: the default is
   * `binance` for the spot layout and `binance-futures` for the USD-M layout. For tardis and
   * jsonl files, only rows of this exchange are read (others are skipped, not rejected).
   */
  readonly exchange?: string;
  /**
   * The venue's symbol. Binance files do not name it: the default comes from the file name
   * (`BTCUSDT-trades-2020-02.csv`). For tardis and jsonl files, only rows of this symbol are read.
   */
  readonly symbol?: string;
  /** Canonical market id for every trade, instead of deriving it from venue and symbol. */
  readonly market?: string;
  readonly signal?: AbortSignal;
}

/** Why a line did not become a trade: the file-level reasons, then the checks every trade passes. */
export type LineRejectReason =
  | 'bad-columns'
  | 'bad-header'
  | 'bad-json'
  | 'bad-trade-count'
  | NonNullable<ReturnType<typeof checkTrade>>;

export type TradeFileItem =
  | { readonly kind: 'trade'; readonly line: number; readonly trade: Trade }
  | {
      readonly kind: 'reject';
      /** 1-based line number in the file. */
      readonly line: number;
      readonly reason: LineRejectReason;
      readonly message: string;
      /** The line as read, cut at 200 characters. */
      readonly text: string;
    };

/**
 * Turns one line into a trade, a reject, or nothing (blank lines, headers, rows filtered out).
 * The line is `text.slice(start, end)`, without its terminator: parsers that can read their
 * fields in place do, so a file's lines need not each become a string.
 */
export interface LineParser {
  parse(text: string, start: number, end: number, lineNumber: number): TradeFileItem | undefined;
}

/**
 * A trade read in place from a file (the tardis fast path, TardisParser.scan): the TradeRow the
 * actor takes, with the market it belongs to and the decimals its price and size are printed
 * with (trailing zeros included). Valid only during the call it is passed to.
 */
export interface FileTradeRow extends TradeRow {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
  readonly priceDecimals: number;
  readonly sizeDecimals: number;
}

export function reject(line: number, reason: LineRejectReason, message: string, text: string): TradeFileItem {
  return { kind: 'reject', line, reason, message, text: text.length > 200 ? `${text.slice(0, 200)}...` : text };
}

/** A decimal integer string as a number, or NaN when it is not one below 2^53. */
export function integer(s: string | undefined): number {
  return s === undefined ? Number.NaN : integerAt(s, 0, s.length);
}

/** `integer(text.slice(start, end))` without the slice: 1 to 16 digits below 2^53, else NaN. */
export function integerAt(text: string, start: number, end: number): number {
  if (end <= start || end - start > 16) return Number.NaN;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

/** Binance public files print times in ms, and in µs from 2025 on (spot): normalize to ms. */
export function epochMs(t: number): number {
  return t >= 1e14 ? Math.floor(t / 1000) : t;
}
