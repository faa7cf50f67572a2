import type { Trade } from '../../market/trade.js';
import { CHECK_MESSAGES, checkTrade } from '../validate.js';
import { epochMs, integer, type LineParser, reject, type TradeFileItem } from './trade-file.js';

/** Binance's `isBuyerMaker`: true means the seller was the taker. */
export function takerSide(isBuyerMaker: string | undefined): 'buy' | 'sell' | undefined {
  const v = isBuyerMaker?.toLowerCase();
  return v === 'true' ? 'sell' : v === 'false' ? 'buy' : undefined;
}

/**
 * Binance public-data `trades` CSV (data.binance.vision), with or without a header:
 * spot      `id,price,qty,quoteQty,time,isBuyerMaker,isBestMatch` (7 columns)
 * USD-M     `id,price,qty,quote_qty,time,is_buyer_maker` (6 columns)
 * Times are ms (µs in spot files from 2025). The file names neither venue nor symbol: they come
 * from the options (see TradeFileOptions).
 */
export class BinanceTradesParser implements LineParser {
  constructor(
    private readonly symbol: string,
    private readonly market: string,
    private readonly exchange?: string,
  ) {}

  parse(text: string, start: number, end: number, n: number): TradeFileItem | undefined {
    const line = text.slice(start, end);
    if (line.length === 0) return undefined;
    const f = line.split(',');
    if (n === 1 && !/^\d+$/.test(f[0] ?? '')) return undefined;
    if (f.length !== 6 && f.length !== 7)
      return reject(n, 'bad-columns', `expected 6 or 7 columns, got ${f.length}`, line);
    const time = integer(f[4]);
    const side = takerSide(f[5]);
    const trade: Trade = {
      exchange: this.exchange ?? (f.length === 7 ? 'binance' : 'binance-futures'),
      symbol: this.symbol,
      market: this.market,
      tradeId: f[0] as string,
      price: f[1] as string,
      size: f[2] as string,
      side: side ?? (f[5] as 'buy'),
      eventTime: epochMs(time),
      receiveTime: epochMs(time),
    };
    const bad = checkTrade(trade);
    return bad === undefined ? { kind: 'trade', line: n, trade } : reject(n, bad, CHECK_MESSAGES[bad], line);
  }
}
