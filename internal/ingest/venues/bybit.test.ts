import { describe, expect, it } from 'vitest';
import { createBybitAdapter } from './bybit.js';
import { capturedFrames, parseAll } from './testing.js';

describe('bybit adapter', () => {
  const adapter = createBybitAdapter({ symbols: ['BTCUSDT'], category: 'spot' });

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
    const many = createBybitAdapter({
      symbols: Array.from({ length: 25 }, (_, i) => `C${i}USDT`),
      category: 'spot',
    }).plan();
    expect(many[0]?.subscribe.map((s) => JSON.parse(s).args.length)).toEqual([10, 10, 5]);
  });

  describe('on the recorded frames (shared capture, 2026: linear and spot connections)', () => {
    const frames = capturedFrames('bybit_v5_publicTrade_kline.jsonl');
    const of = (path: string) => frames.filter((f) => f.url.endsWith(path)).map((f) => f.data);

    it('reads linear trades as bybit-linear, on the linear endpoint, every trade of the capture', () => {
      const linear = createBybitAdapter({ symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT'], category: 'linear' });
      expect(linear.venue).toBe('bybit-linear');
      expect(linear.plan()[0]?.url).toBe('wss://stream.bybit.com/v5/public/linear');
      const { trades, rejects } = parseAll(
        linear,
        of('/linear').filter((f) => f.includes('publicTrade')),
      );
      expect(rejects).toEqual([]);
      expect(trades).toHaveLength(327);
      expect(new Set(trades.map((t) => t.exchange))).toEqual(new Set(['bybit-linear']));
      expect(new Set(trades.map((t) => t.market))).toEqual(new Set(['BTC-USDT', 'ETH-USDT', 'SOL-USDT', 'DOGE-USDT']));
      // Linear trade ids are UUIDs: no order, so no gap detection.
      expect(
        trades.every((t) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(t.tradeId)),
      ).toBe(true);
      expect(new Set(trades.map((t) => t.tradeId)).size).toBe(327);
    });

    it('reads spot trades as bybit, and its ids skip values with nothing missing', () => {
      const spot = createBybitAdapter({ symbols: ['BTCUSDT', 'ETHUSDT'], category: 'spot' });
      const { trades, rejects } = parseAll(
        spot,
        of('/spot').filter((f) => f.includes('publicTrade')),
      );
      expect(rejects).toEqual([]);
      expect(trades).toHaveLength(20);
      const eth = trades.filter((t) => t.symbol === 'ETHUSDT').map((t) => BigInt(t.tradeId));
      const steps = eth.slice(1).map((id, i) => Number(id - (eth[i] as bigint)));
      expect(steps).toEqual([3, 1, 22, 13, 1, 2, 1, 1]);
      // Yet Bybit's own 1-minute kline, pushed after each of those trades, grows by exactly their
      // sizes: the skipped ids were no ETHUSDT trades. Spot ids cannot reveal a gap.
      const klineVolumes = of('/spot')
        .filter((f) => f.includes('"kline.1.ETHUSDT"'))
        .flatMap((f) => (JSON.parse(f) as { data: Array<{ start: number; volume: string }> }).data)
        .filter((k) => k.start === 1786310820000)
        .map((k) => k.volume);
      expect([...new Set(klineVolumes)]).toEqual([
        '0',
        '0.04537',
        '0.04649',
        '0.14697',
        '1.37589',
        '1.53005',
        '1.68421',
      ]);
      let sum = 0;
      const sums = trades.filter((t) => t.symbol === 'ETHUSDT').map((t) => (sum += Number(t.size)));
      expect(sums.map((v) => v.toFixed(5))).toEqual(
        expect.arrayContaining(['0.04537', '0.04649', '0.14697', '1.37589', '1.53005', '1.68421']),
      );
    });
  });
});
