import { describe, expect, it } from 'vitest';
import { capturedFrames } from '../ingest/venues/testing.js';
import { type KlinePush, klinePushParser } from './kline-push.js';

/** Every kline push of a capture, and the frames that were rejected. */
function parseCapture(venue: string, file: string) {
  const parse = klinePushParser(venue);
  if (parse === undefined) throw new Error(`no parser for ${venue}`);
  const pushes: KlinePush[] = [];
  const rejects: string[] = [];
  let frames = 0;
  for (const f of capturedFrames(file)) {
    const r = parse(f.data);
    if ('reject' in r) rejects.push(r.reject);
    else {
      if (r.pushes.length > 0) frames++;
      pushes.push(...r.pushes);
    }
  }
  return { pushes, rejects, frames };
}

describe('kline pushes of the recorded venue captures (shared/data/venue-ws-captures)', () => {
  it('reads every Binance USD-M kline push, with its count, taker-buy sums and final flag', () => {
    const { pushes, rejects, frames } = parseCapture('binance-futures', 'binance_futures_aggTrade_kline.jsonl');
    expect(rejects).toEqual([]);
    expect(frames).toBe(67);
    expect(new Set(pushes.map((p) => p.market))).toEqual(new Set(['SUSHI-USDT', 'AKRO-USDT', 'KEEP-USDT', 'CTK-USDT']));
    expect(pushes.every((p) => p.interval === '1m')).toBe(true);
    // The capture crosses 22:26:00: the 22:25 windows end with a push marked final.
    const finals = pushes.filter((p) => p.final);
    expect(finals.length).toBeGreaterThan(0);
    expect(finals.every((p) => p.kline.openTime === 1626992700000)).toBe(true);
    const first = pushes[0] as KlinePush;
    expect(first).toMatchObject({ market: 'CTK-USDT', final: false });
    expect(first.kline).toMatchObject({ openTime: 1626992700000, open: '1.01000', close: '1.01100', volume: '3917' });
    expect(typeof first.kline.trades).toBe('number');
    expect(first.kline.takerBuyVolume).toMatch(/^\d+(\.\d+)?$/);
  });

  it('reads the Binance.US and Binance spot pushes', () => {
    const us = parseCapture('binance', 'binance_us_aggTrade_kline.jsonl');
    expect(us.rejects).toEqual([]);
    expect(us.frames).toBe(5);
    const spot = parseCapture('binance', 'binance_spot_aggTrade_kline.jsonl');
    expect(spot.rejects).toEqual([]);
    expect(spot.frames).toBe(2);
  });

  it('reads every Bybit v5 kline.1 push, linear and spot, with its confirm flag', () => {
    const linear = parseCapture('bybit-linear', 'bybit_v5_publicTrade_kline.jsonl');
    expect(linear.rejects).toEqual([]);
    expect(linear.frames).toBe(96);
    expect(new Set(linear.pushes.map((p) => p.interval))).toEqual(new Set(['1m']));
    const btc = linear.pushes.find((p) => p.market === 'BTC-USDT') as KlinePush;
    expect(btc.kline).toEqual({
      openTime: 1786310760000,
      open: '65119.9',
      high: '65119.9',
      low: '65114.2',
      close: '65114.3',
      volume: '1.576',
      quoteVolume: '102627.995',
    });
    expect(linear.pushes.some((p) => p.final === true)).toBe(true);
  });

  it('reads the Coinbase Advanced candles snapshot and updates as 5-minute windows without a final flag', () => {
    const { pushes, rejects, frames } = parseCapture('coinbase', 'coinbase_advanced_market_trades_candles.jsonl');
    expect(rejects).toEqual([]);
    expect(frames).toBe(6);
    expect(pushes.every((p) => p.interval === '5m' && p.final === undefined)).toBe(true);
    expect(pushes.every((p) => p.kline.openTime % 300_000 === 0)).toBe(true);
    expect(new Set(pushes.map((p) => p.market))).toEqual(new Set(['BTC-USD', 'ETH-USD']));
    expect(pushes.length).toBeGreaterThan(200);
  });

  it("reads OKX's UTC candle channel and refuses its Hong Kong-aligned day", () => {
    const parse = klinePushParser('okx');
    // The documented push (OKX API v5, "Candlesticks channel"), on the UTC-aligned channel.
    const row = ['1597026383085', '8533.02', '8553.74', '8527.17', '8548.26', '45247', '529.5858061', '5.3', '1'];
    const r = parse?.(JSON.stringify({ arg: { channel: 'candle1Dutc', instId: 'BTC-USDT' }, data: [row] }));
    expect(r).toEqual({
      pushes: [
        {
          market: 'BTC-USDT',
          symbol: 'BTC-USDT',
          interval: '1d',
          final: true,
          kline: {
            openTime: 1597026383085,
            open: '8533.02',
            high: '8553.74',
            low: '8527.17',
            close: '8548.26',
            volume: '45247',
            quoteVolume: '5.3',
          },
        },
      ],
    });
    expect(parse?.(JSON.stringify({ arg: { channel: 'candle1D', instId: 'BTC-USDT' }, data: [row] }))).toEqual({
      reject: 'not a UTC-aligned candle channel',
    });
    expect(parse?.(JSON.stringify({ event: 'subscribe', arg: { channel: 'trades', instId: 'BTC-USDT' } }))).toEqual({
      pushes: [],
    });
    // A swap's vol counts contracts; its base volume, as tickmesh sizes OKX trades, is volCcy.
    const swap = [
      '1747094040000',
      '102806.1',
      '102820.4',
      '102806.1',
      '102820.4',
      '1040.37',
      '10.4037',
      '1069603.34883',
      '1',
    ];
    const pushed = parse?.(JSON.stringify({ arg: { channel: 'candle1m', instId: 'BTC-USDT-SWAP' }, data: [swap] }));
    expect(
      pushed && 'pushes' in pushed ? pushed.pushes.map((p) => [p.market, p.kline.volume, p.kline.quoteVolume]) : pushed,
    ).toEqual([['BTC-USDT-SWAP', '10.4037', '1069603.34883']]);
  });

  it('reads Kraken v2 ohlc numbers as the text Kraken wrote, never through a float', () => {
    const parse = klinePushParser('kraken');
    // The documented update (Kraken WebSocket v2, "OHLC"), with a price a float would change.
    const frame =
      '{"channel":"ohlc","type":"update","timestamp":"2023-10-04T16:26:30.524394914Z","data":[{"symbol":"MATIC/USD",' +
      '"open":0.5624,"high":0.5628,"low":0.5622,"close":0.56270000000000000001,"trades":12,"volume":30927.68066226,' +
      '"vwap":0.5626,"interval_begin":"2023-10-04T16:25:00.000000000Z","interval":5,"timestamp":"2023-10-04T16:30:00.000000Z"}]}';
    const r = parse?.(frame);
    expect(r).toMatchObject({
      pushes: [
        {
          market: 'MATIC-USD',
          interval: '5m',
          final: undefined,
          kline: {
            openTime: Date.parse('2023-10-04T16:25:00Z'),
            close: '0.56270000000000000001',
            trades: 12,
            vwap: '0.5626',
          },
        },
      ],
    });
  });

  it('rejects a kline push it cannot read, and lets other frames through as nothing', () => {
    const binance = klinePushParser('binance');
    expect(binance?.('{"e":"kline","s":"BTCUSDT","k":{"t":1,"s":"BTCUSDT","i":"1m","o":"1e3"}}')).toHaveProperty(
      'reject',
    );
    expect(binance?.('{"e":"aggTrade","s":"BTCUSDT"}')).toEqual({ pushes: [] });
    expect(binance?.('not json')).toEqual({ reject: 'not JSON' });
    expect(klinePushParser('bybit')?.('{"topic":"kline.7.BTCUSDT","data":[]}')).toEqual({ reject: 'unknown interval' });
    expect(klinePushParser('sim')).toBeUndefined();
  });
});
