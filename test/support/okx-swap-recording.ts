import { readFileSync } from 'node:fs';
import type { ParseOutput } from '../../internal/ingest/venue.js';
import { createOkxAdapter } from '../../internal/ingest/venues/okx.js';
import type { Trade } from '../../internal/market/trade.js';

/**
 * One recorded minute of OKX's linear swap MATIC-USDT-SWAP (contracts of 10 MATIC): its 14
 * trades from OKX's trade archive and its row of OKX's candle archive (test/fixtures/
 * okx-matic-usdt-swap-2023-08-21, SOURCE.md). The trades are read by tickmesh's OKX adapter as
 * its `trades` channel sends them.
 */
const FIXTURES = new URL('../fixtures/okx-matic-usdt-swap-2023-08-21/', import.meta.url);

export const OKX_SWAP = 'MATIC-USDT-SWAP';
/** The minute's open time: 2023-08-20 16:01 UTC. */
export const OKX_SWAP_MINUTE = Date.UTC(2023, 7, 20, 16, 1);

function rows(file: string): string[][] {
  const [, ...lines] = readFileSync(new URL(file, FIXTURES), 'utf8').trim().split('\n');
  return lines.map((l) => l.split(','));
}

/** The archive's trades, each as an OKX `trades` frame, read by the adapter given `contractValue`. */
export async function okxSwapTrades(contractValue: string): Promise<Trade[]> {
  const adapter = createOkxAdapter({ symbols: [OKX_SWAP], restUrl: '', contractValues: { [OKX_SWAP]: contractValue } });
  await adapter.prepare?.(AbortSignal.timeout(1_000));
  const trades: Trade[] = [];
  const out: ParseOutput = {
    trade: (t) => trades.push(t),
    reject: (reason, message) => {
      throw new Error(`recorded OKX trade rejected: ${reason}: ${message}`);
    },
  };
  for (const [instId, tradeId, side, px, sz, ts] of rows('trades.csv')) {
    const frame = { arg: { channel: 'trades', instId }, data: [{ instId, tradeId, px, sz, side, ts }] };
    adapter.parse(JSON.stringify(frame), Number(ts), out);
  }
  return trades;
}

/** OKX's candle of the minute as its REST and WebSocket candles carry it: [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]. */
export function okxSwapCandleRow(): string[] {
  const [o, h, l, c, vol, volCcy, volQuote, openTime] = rows('candle.csv')[0] as string[];
  return [openTime, o, h, l, c, vol, volCcy, volQuote, '1'] as string[];
}
