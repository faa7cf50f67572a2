import type { Trade } from '../../market/trade.js';
import { CHECK_MESSAGES, checkTrade } from '../validate.js';
import { type MarketResolver, venueOfTardis } from './market-of.js';
import { integer, type LineParser, reject, type TradeFileItem } from './trade-file.js';

const REQUIRED = ['exchange', 'symbol', 'timestamp', 'id', 'side', 'price', 'amount'] as const;

/**
 * tardis.dev `trades` CSV: a header, then `exchange,symbol,timestamp,local_timestamp,id,side,
 * price,amount` with times in µs since the epoch and the taker side (`buy`, `sell`; `unknown`
 * is rejected as bad-side). Columns are found by name, so their order may differ.
 */
export class TardisParser implements LineParser {
  private columns: Record<string, number> | undefined;
  private width = 0;

  constructor(
    private readonly markets: MarketResolver,
    private readonly exchange?: string,
    private readonly symbol?: string,
  ) {}

  parse(line: string, n: number): TradeFileItem | undefined {
    if (line.length === 0) return undefined;
    const f = line.split(',');
    const cols = this.columns;
    if (cols === undefined) {
      const names: Record<string, number> = {};
      f.forEach((name, i) => {
        names[name.trim()] = i;
      });
      const missing = REQUIRED.filter((c) => names[c] === undefined);
      if (missing.length > 0) return reject(n, 'bad-header', `tardis header lacks ${missing.join(', ')}`, line);
      this.columns = names;
      this.width = f.length;
      return undefined;
    }
    if (f.length !== this.width)
      return reject(n, 'bad-columns', `expected ${this.width} columns, got ${f.length}`, line);
    const venue = venueOfTardis(f[cols.exchange as number] as string);
    const symbol = f[cols.symbol as number] as string;
    if (this.exchange !== undefined && venue !== this.exchange) return undefined;
    if (this.symbol !== undefined && symbol !== this.symbol) return undefined;
    const us = integer(f[cols.timestamp as number]);
    const localCol = cols.local_timestamp;
    const localUs = localCol === undefined ? us : integer(f[localCol]);
    const side = f[cols.side as number];
    const trade: Trade = {
      exchange: venue,
      symbol,
      market: this.markets.resolve(venue, symbol) ?? '',
      tradeId: f[cols.id as number] as string,
      price: f[cols.price as number] as string,
      size: f[cols.amount as number] as string,
      side: side === 'buy' || side === 'sell' ? side : (side as 'buy'),
      eventTime: Math.floor(us / 1000),
      receiveTime: Number.isNaN(localUs) ? Math.floor(us / 1000) : Math.floor(localUs / 1000),
    };
    const bad = checkTrade(trade);
    return bad === undefined ? { kind: 'trade', line: n, trade } : reject(n, bad, CHECK_MESSAGES[bad], line);
  }
}
