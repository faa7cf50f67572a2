import { describe, expect, it } from 'vitest';
import { createBybitAdapter } from './bybit.js';
import { parseAll } from './testing.js';

describe('bybit adapter', () => {
  const adapter = createBybitAdapter({ symbols: ['BTCUSDT'] });

  it('reads publicTrade messages and subscribes at most 10 topics per request', () => {
    const { trades, rejects } = parseAll(adapter, [
      '{"success":true,"ret_msg":"subscribe","conn_id":"x","op":"subscribe"}',
      '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]}',
      '{"topic":"orderbook.50.BTCUSDT","data":{}}',
    ]);
    expect(rejects).toEqual(['unknown-message']);
    expect(trades).toEqual([
      {
        exchange: 'bybit',
        symbol: 'BTCUSDT',
        market: 'BTC-USDT',
        tradeId: '20f43950-d8dd-5b31-9112-a178eb6023af',
        price: '16578.50',
        size: '0.001',
        side: 'buy',
        eventTime: 1672304486865,
        receiveTime: 1,
      },
    ]);
    const many = createBybitAdapter({ symbols: Array.from({ length: 25 }, (_, i) => `C${i}USDT`) }).plan();
    expect(many[0]?.subscribe.map((s) => JSON.parse(s).args.length)).toEqual([10, 10, 5]);
  });
});
