import { describe, expect, it } from 'vitest';
import { OKX_SWAP, OKX_SWAP_MINUTE, okxSwapCandleRow, okxSwapTrades } from '../../test/support/okx-swap-recording.js';
import { reconcilingDatabase, replayMarket } from '../../test/support/reconciler-run.js';
import type { Trade } from '../market/trade.js';
import { klinePushParser } from '../verify/kline-push.js';
import type { KlineRecord } from '../verify/kline-record.js';

/**
 * The reconciler host beside the market actors on OKX's own recorded minute of the linear swap
 * MATIC-USDT-SWAP (test/fixtures/okx-matic-usdt-swap-2023-08-21, SOURCE.md): its 14 trades read
 * by the OKX adapter (contracts of 10 MATIC), its candle as OKX's `candle1m` channel pushes it,
 * final. internal/verify/okx-convention.test.ts compares the same minute field by field.
 */
const END = OKX_SWAP_MINUTE + 60_000;

const db = reconcilingDatabase('okx');

/** The candle push as ingest keeps it on the klines topic. */
function pushed(): KlineRecord {
  const frame = JSON.stringify({ arg: { channel: 'candle1m', instId: OKX_SWAP }, data: [okxSwapCandleRow()] });
  const r = klinePushParser('okx')?.(frame);
  if (r === undefined || !('pushes' in r) || r.pushes.length !== 1)
    throw new Error('the recorded candle is not a push');
  return { ...(r.pushes[0] as KlineRecord), v: 1, exchange: 'okx', receivedAt: END + 1_000 };
}

const replay = (trades: readonly Trade[]) => replayMarket(db, trades, [pushed()], END + 30_000);

describe('OKX MATIC-USDT-SWAP through the reconciler host (a recorded minute and its candle)', () => {
  it('verifies the minute of trades sized in MATIC', async () => {
    const { running, status } = await replay(await okxSwapTrades('10'));
    try {
      await expect.poll(async () => (await status(OKX_SWAP_MINUTE))?.status, { timeout: 30_000 }).toBe('verified');
    } finally {
      await running.stop();
    }
  }, 120_000);

  it('names both volumes, with both values, when one trade is lost', async () => {
    const trades = (await okxSwapTrades('10')).filter((t) => t.tradeId !== '104136701');
    const { running, status } = await replay(trades);
    try {
      await expect.poll(async () => (await status(OKX_SWAP_MINUTE))?.status, { timeout: 30_000 }).toBe('mismatch');
      expect((await status(OKX_SWAP_MINUTE))?.differences).toEqual([
        { field: 'volume', ours: '8080', theirs: '11990' },
        { field: 'quoteVolume', ours: '4643.057', theirs: '6889.352' },
      ]);
    } finally {
      await running.stop();
    }
  }, 120_000);
});
