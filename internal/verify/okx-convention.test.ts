import { describe, expect, it } from 'vitest';
import { OKX_SWAP, OKX_SWAP_MINUTE, okxSwapCandleRow, okxSwapTrades } from '../../test/support/okx-swap-recording.js';
import { actorConfig } from '../actor/config.js';
import { MarketActor } from '../actor/market-actor.js';
import { createActorOutput } from '../actor/output.js';
import type { Candle } from '../market/candle.js';
import type { Trade } from '../market/trade.js';
import { compareCandle } from './compare.js';
import { VENUE_CONVENTIONS, type VenueConvention } from './conventions.js';
import type { VenueKline } from './kline.js';
import { klinePushParser } from './kline-push.js';
import { createRequestBudget } from './request-budget.js';
import { createKlineSource } from './venue-klines.js';

/**
 * OKX's 1m candle against tickmesh's candle of OKX's own trades: one real minute of the linear
 * swap MATIC-USDT-SWAP (contracts of 10 MATIC), its 14 trades from OKX's trade archive and its
 * row of OKX's candle archive (test/fixtures/okx-matic-usdt-swap-2023-08-21, SOURCE.md). The
 * trades go through tickmesh's OKX adapter as its `trades` channel sends them, the candle through
 * both of tickmesh's OKX candle readers (REST history and the WebSocket channel).
 */
const OKX = VENUE_CONVENTIONS.okx as VenueConvention;

function candleOf(trades: readonly Trade[]): Candle {
  const actor = new MarketActor(trades[0] as Trade, actorConfig({ intervals: ['1m'], partialUpdates: false }));
  const out = createActorOutput();
  for (const t of trades) actor.onTrade(t, 0, out);
  actor.advance(OKX_SWAP_MINUTE + 60_000, 0, out);
  const closed = out.closed.filter((c) => c.openTime === OKX_SWAP_MINUTE);
  expect(closed).toHaveLength(1);
  return closed[0] as Candle;
}

async function restKline(): Promise<VenueKline> {
  const answer = JSON.stringify({ code: '0', msg: '', data: [okxSwapCandleRow()] });
  const source = createKlineSource('okx', {
    restUrl: 'http://okx.test',
    fetch: (async () => new Response(answer, { headers: { 'content-type': 'application/json' } })) as typeof fetch,
    budget: createRequestBudget(10),
  });
  const klines: VenueKline[] = [];
  for await (const page of source?.pages({
    symbol: OKX_SWAP,
    interval: '1m',
    from: OKX_SWAP_MINUTE,
    to: OKX_SWAP_MINUTE + 60_000,
    signal: AbortSignal.timeout(5_000),
  }) ?? []) {
    klines.push(...page);
  }
  expect(klines).toHaveLength(1);
  return klines[0] as VenueKline;
}

describe('OKX MATIC-USDT-SWAP, one recorded minute of trades and its candle (2023-08-20 16:01 UTC)', () => {
  it('verifies: OHLC, the base volume (contracts × 10) and the quote volume, by both candle readers', async () => {
    const trades = await okxSwapTrades('10');
    expect(trades).toHaveLength(14);
    expect(trades[0]).toMatchObject({ market: OKX_SWAP, tradeId: '104136693', size: '380', side: 'buy' });
    const candle = candleOf(trades);
    expect(candle).toMatchObject({ open: '0.5747', high: '0.5748', low: '0.5744', close: '0.5744', trades: 14 });

    const rest = await restKline();
    expect(rest).toEqual({
      openTime: OKX_SWAP_MINUTE,
      open: '0.5747',
      high: '0.5748',
      low: '0.5744',
      close: '0.5744',
      volume: '11990',
      quoteVolume: '6889.352',
    });
    const pushed = klinePushParser('okx')?.(
      JSON.stringify({ arg: { channel: 'candle1m', instId: OKX_SWAP }, data: [okxSwapCandleRow()] }),
    );
    expect(pushed && 'pushes' in pushed ? pushed.pushes.map((p) => p.kline) : pushed).toEqual([rest]);

    expect(compareCandle(candle, rest, OKX)).toMatchObject({ status: 'verified' });
  });

  it('trades counted as contracts (the size OKX sends) would be a mismatch on both volumes', async () => {
    const v = compareCandle(candleOf(await okxSwapTrades('1')), await restKline(), OKX);
    expect(v.status).toBe('mismatch');
    if (v.status !== 'mismatch') return;
    expect(v.differences).toEqual([
      { field: 'volume', ours: '1199', theirs: '11990' },
      { field: 'quoteVolume', ours: '688.9352', theirs: '6889.352' },
    ]);
  });

  it('a trade taken out makes the minute a mismatch naming the volumes with both values', async () => {
    const trades = await okxSwapTrades('10');
    // 104136701: 391 contracts at 0.5745, neither the first, the last, the high nor the low.
    const candle = candleOf(trades.filter((t) => t.tradeId !== '104136701'));
    const v = compareCandle(candle, await restKline(), OKX);
    expect(v.status).toBe('mismatch');
    if (v.status !== 'mismatch') return;
    expect(v.differences).toEqual([
      { field: 'volume', ours: '8080', theirs: '11990' },
      { field: 'quoteVolume', ours: '4643.057', theirs: '6889.352' },
    ]);
  });
});
