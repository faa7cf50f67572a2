import type { Trade } from '../../market/trade.js';
import { readTradeFile } from '../files/index.js';

/**
 * The real BTCUSDT USD-M trades (9,999, ids 42377944..42387942) in the project's shared data,
 * which every checkout and CI run has at ../shared beside the repository (never copied in).
 */
export const REAL_TRADES_FILE = new URL(
  '../../../../shared/data/binance-um-btcusdt-2020-02-22/trades.csv',
  import.meta.url,
).pathname;

export async function loadRealTrades(): Promise<Trade[]> {
  const trades: Trade[] = [];
  for await (const item of readTradeFile({ path: REAL_TRADES_FILE, format: 'tardis' })) {
    if (item.kind !== 'trade') throw new Error(`test data line ${item.line} is rejected: ${item.reason}`);
    trades.push(item.trade);
  }
  return trades;
}
