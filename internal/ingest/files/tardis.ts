import type { Trade } from '../../market/trade.js';
import { CHECK_MESSAGES, checkTrade } from '../validate.js';
import { type MarketResolver, venueOfTardis } from './market-of.js';
import { integerAt, type LineParser, reject, type TradeFileItem } from './trade-file.js';

/** Whether `text.slice(start, end)` is `s`, without the slice. */
function holds(text: string, start: number, end: number, s: string): boolean {
  return end - start === s.length && text.startsWith(s, start);
}

const REQUIRED = ['exchange', 'symbol', 'timestamp', 'id', 'side', 'price', 'amount'] as const;

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
  private readonly symbols = new Map<string, Map<string, { symbol: string; market: string }>>();

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
        known = { symbol: sliced, market: this.markets.resolve(venue, sliced) ?? '' };
        symbols.set(sliced, known);
      }
      this.symbolText = known.symbol;
      this.market = known.market;
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
    return undefined;
  }

  private badColumns(line: string, n: number): TradeFileItem {
    return reject(n, 'bad-columns', `expected ${this.width} columns, got ${line.split(',').length}`, line);
  }
}
