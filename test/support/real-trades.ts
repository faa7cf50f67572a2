import { readTradeFile } from '../../internal/ingest/files/index.js';
import type { Trade } from '../../internal/market/trade.js';
import { sharedData } from '../harness/shared-data.js';

/**
 * The real BTCUSDT USD-M trades (9,999, ids 42377944..42387942) in the project's shared data
 * (never copied into the repository; test/harness/shared-data.ts finds it).
 */
export function realTradesFile(): string {
  return sharedData('binance-um-btcusdt-2020-02-22', 'trades.csv');
}

export async function loadRealTrades(): Promise<Trade[]> {
  const trades: Trade[] = [];
  for await (const item of readTradeFile({ path: realTradesFile(), format: 'tardis' })) {
    if (item.kind !== 'trade') throw new Error(`test data line ${item.line} is rejected: ${item.reason}`);
    trades.push(item.trade);
  }
  return trades;
}
