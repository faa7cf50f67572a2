import { MAX_TRADE_COUNT } from '../../log/record.js';
import type { Trade } from '../../market/trade.js';
import { CHECK_MESSAGES, checkTrade } from '../validate.js';
import { takerSide } from './binance-trades.js';
import { epochMs, integer, type LineParser, reject, type TradeFileItem } from './trade-file.js';

/**
 * Binance public-data `aggTrades` CSV, with or without a header:
 * spot      `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker,is_best_match` (8)
 * USD-M     `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker` (7)
 * One aggregate trade becomes one Trade with the aggregate id as its trade id and
 * `tradeCount = last - first + 1`, so candles keep the exchange's trade count.
 */
export class BinanceAggTradesParser implements LineParser {
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
    if (f.length !== 7 && f.length !== 8)
      return reject(n, 'bad-columns', `expected 7 or 8 columns, got ${f.length}`, line);
    const first = integer(f[3]);
    const last = integer(f[4]);
    if (Number.isNaN(first) || Number.isNaN(last) || last < first || last - first >= MAX_TRADE_COUNT) {
      return reject(n, 'bad-trade-count', 'first/last trade ids are not an increasing pair of integers', line);
    }
    const time = integer(f[5]);
    const side = takerSide(f[6]);
    const trade: Trade = {
      exchange: this.exchange ?? (f.length === 8 ? 'binance' : 'binance-futures'),
      symbol: this.symbol,
      market: this.market,
      tradeId: f[0] as string,
      price: f[1] as string,
      size: f[2] as string,
      side: side ?? (f[6] as 'buy'),
      eventTime: epochMs(time),
      receiveTime: epochMs(time),
      tradeCount: last - first + 1,
    };
    const bad = checkTrade(trade);
    return bad === undefined ? { kind: 'trade', line: n, trade } : reject(n, bad, CHECK_MESSAGES[bad], line);
  }
}
