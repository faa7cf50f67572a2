import { MAX_TRADE_COUNT } from '../../log/record.js';
import type { Trade } from '../../market/trade.js';
import { CHECK_MESSAGES, checkTrade } from '../validate.js';
import type { MarketResolver } from './market-of.js';
import { type LineParser, reject, type TradeFileItem } from './trade-file.js';

/**
 * One normalized Trade (internal/market/trade.ts) as a JSON object per line. Prices and sizes
 * must be strings (a JSON number has already been through a float); `market` may be left out
 * and is then derived; `receiveTime` defaults to `eventTime`.
 */
export class JsonlParser implements LineParser {
  constructor(
    private readonly markets: MarketResolver,
    private readonly exchange?: string,
    private readonly symbol?: string,
  ) {}

  parse(text: string, start: number, end: number, n: number): TradeFileItem | undefined {
    const line = text.slice(start, end);
    if (line.trim().length === 0) return undefined;
    let o: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(line);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      o = v as Record<string, unknown>;
    } catch {
      return reject(n, 'bad-json', 'line is not a JSON object', line);
    }
    const str = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
    const exchange = str('exchange');
    const symbol = str('symbol');
    if (this.exchange !== undefined && exchange !== this.exchange) return undefined;
    if (this.symbol !== undefined && symbol !== this.symbol) return undefined;
    const eventTime = typeof o.eventTime === 'number' ? o.eventTime : Number.NaN;
    const count = o.tradeCount;
    if (
      count !== undefined &&
      !(Number.isSafeInteger(count) && (count as number) > 0 && (count as number) <= MAX_TRADE_COUNT)
    ) {
      return reject(n, 'bad-trade-count', 'tradeCount is not an integer from 1 to 2^32-1', line);
    }
    const trade: Trade = {
      exchange,
      symbol,
      market: str('market') || (this.markets.resolve(exchange, symbol) ?? ''),
      tradeId: typeof o.tradeId === 'number' && Number.isSafeInteger(o.tradeId) ? String(o.tradeId) : str('tradeId'),
      price: str('price'),
      size: str('size'),
      side: str('side') as 'buy',
      eventTime,
      receiveTime: typeof o.receiveTime === 'number' ? o.receiveTime : eventTime,
      ...(o.simulated === true ? { simulated: true } : {}),
      ...(count !== undefined ? { tradeCount: count as number } : {}),
    };
    const bad = checkTrade(trade);
    return bad === undefined ? { kind: 'trade', line: n, trade } : reject(n, bad, CHECK_MESSAGES[bad], line);
  }
}
