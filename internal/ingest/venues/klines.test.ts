import { describe, expect, it } from 'vitest';
import type { Interval } from '../../market/interval.js';
import type { Trade } from '../../market/trade.js';
import type { VenueKlinePush } from '../../verify/kline-push.js';
import type { RejectReason } from '../events.js';
import type { ParseOutput, VenueAdapter } from '../venue.js';
import { businessUrl } from './okx.js';
import { createAdapter } from './registry.js';
import { capturedFrames } from './testing.js';

const INTERVALS: Interval[] = ['1m', '5m', '1h'];

/** Every trade, kline push and reject of `frames` through `adapter`. */
function parseWith(adapter: VenueAdapter, frames: readonly string[], klines = true) {
  const trades: Trade[] = [];
  const pushes: VenueKlinePush[] = [];
  const rejects: Array<{ reason: RejectReason; message: string }> = [];
  const out: ParseOutput = {
    trade: (t) => trades.push(t),
    reject: (reason, message) => rejects.push({ reason, message }),
    ...(klines ? { kline: (p: VenueKlinePush) => pushes.push(p) } : {}),
  };
  for (const f of frames) adapter.parse(f, 1, out);
  return { trades, pushes, rejects };
}

const subscribed = (adapter: VenueAdapter) => adapter.plan().flatMap((p) => p.subscribe.map((m) => JSON.parse(m)));

describe('kline channels beside the trade channels', () => {
  it('Binance: <symbol>@kline_<i> on the trades connection, every interval the venue has', () => {
    const spot = createAdapter('binance', { symbols: ['BTCUSDT'], klineIntervals: ['1s', '1m'] });
    expect(subscribed(spot).flatMap((m) => m.params)).toEqual([
      'btcusdt@trade',
      'btcusdt@kline_1s',
      'btcusdt@kline_1m',
    ]);
    // USD-M has no 1s klines.
    const usdm = createAdapter('binance-futures', { symbols: ['BTCUSDT'], klineIntervals: ['1s', '1m'] });
    expect(subscribed(usdm).flatMap((m) => m.params)).toEqual(['btcusdt@trade', 'btcusdt@kline_1m']);
    // Off: trades only, as before.
    expect(subscribed(createAdapter('binance', { symbols: ['BTCUSDT'] })).flatMap((m) => m.params)).toEqual([
      'btcusdt@trade',
    ]);
  });

  it('Binance: the streams of one symbol stay on one connection within the 1024-stream cap', () => {
    const adapter = createAdapter('binance', {
      symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'],
      klineIntervals: INTERVALS,
      maxStreamsPerConnection: 8,
    });
    const plans = adapter.plan();
    // 4 streams a symbol (trade + 3 klines), 8 a connection: 2 symbols each.
    expect(plans.map((p) => p.symbols)).toEqual([
      ['BTCUSDT', 'ETHUSDT'],
      ['SOLUSDT', 'XRPUSDT'],
    ]);
  });

  it('Binance USD-M capture: every kline push to out.kline, trades as before, nothing rejected', () => {
    const frames = capturedFrames('binance_futures_aggTrade_kline.jsonl').map((f) => f.data);
    const adapter = createAdapter('binance-futures', {
      symbols: ['SUSHIUSDT', 'AKROUSDT', 'KEEPUSDT', 'CTKUSDT'],
      stream: 'aggTrade',
      klineIntervals: ['1m'],
    });
    const { trades, pushes, rejects } = parseWith(adapter, frames);
    expect(rejects).toEqual([]);
    expect(trades).toHaveLength(91);
    expect(pushes).toHaveLength(67);
    expect(pushes[0]).toMatchObject({ market: 'CTK-USDT', symbol: 'CTKUSDT', interval: '1m', final: false });
    // Without a kline output the same frames give the same trades and no reject.
    const off = parseWith(adapter, frames, false);
    expect([off.trades.length, off.pushes.length, off.rejects]).toEqual([91, 0, []]);
  });

  it('a kline push that cannot be read is a bad-kline reject, never a crash or a silent drop', () => {
    const adapter = createAdapter('binance', { symbols: ['BTCUSDT'], klineIntervals: ['1m'] });
    const frame =
      '{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":0,"s":"BTCUSDT","i":"1m","o":"1e3"}}}';
    const { pushes, rejects } = parseWith(adapter, [frame]);
    expect(pushes).toEqual([]);
    expect(rejects).toEqual([{ reason: 'bad-kline', message: 'bad open time, count or final flag' }]);
  });

  it('Bybit: kline.<i>.<symbol> with the trade topics, 10 args a request; the capture read whole', () => {
    const adapter = createAdapter('bybit-linear', {
      symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT'],
      klineIntervals: ['1m', '5m', '1d', '8h'],
    });
    const messages = subscribed(adapter);
    expect(messages.every((m) => m.args.length <= 10)).toBe(true);
    const args = messages.flatMap((m) => m.args);
    expect(args.slice(0, 4)).toEqual(['publicTrade.BTCUSDT', 'kline.1.BTCUSDT', 'kline.5.BTCUSDT', 'kline.D.BTCUSDT']);
    expect(args).toHaveLength(16);
    const frames = capturedFrames('bybit_v5_publicTrade_kline.jsonl')
      .filter((f) => f.url.endsWith('/linear'))
      .map((f) => f.data);
    const { trades, pushes, rejects } = parseWith(adapter, frames);
    expect(rejects).toEqual([]);
    expect(trades).toHaveLength(327);
    expect(new Set(pushes.map((p) => p.symbol))).toEqual(new Set(['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT']));
    expect(pushes).toHaveLength(75);
  });

  it('Coinbase: the candles channel when 5m is asked for (its only interval), read from the capture', () => {
    const none = createAdapter('coinbase', { symbols: ['BTC-USD'], klineIntervals: ['1m'] });
    expect(subscribed(none).map((m) => m.channel)).toEqual(['market_trades', 'heartbeats']);
    const adapter = createAdapter('coinbase', { symbols: ['BTC-USD', 'ETH-USD'], klineIntervals: ['1m', '5m'] });
    expect(subscribed(adapter).map((m) => m.channel)).toEqual(['market_trades', 'candles', 'heartbeats']);
    const frames = capturedFrames('coinbase_advanced_market_trades_candles.jsonl').map((f) => f.data);
    const { trades, pushes, rejects } = parseWith(adapter, frames);
    expect(rejects).toEqual([]);
    expect(trades).toHaveLength(279);
    expect(pushes.every((p) => p.interval === '5m' && p.final === undefined)).toBe(true);
    expect(pushes.length).toBeGreaterThan(200);
  });

  it('Kraken v2: one ohlc subscription per interval, without a snapshot; an ohlc update read', () => {
    const adapter = createAdapter('kraken', { symbols: ['BTC/USD'], klineIntervals: ['1m', '3m', '1h'] });
    const messages = subscribed(adapter);
    expect(messages.map((m) => [m.params.channel, m.params.interval, m.params.snapshot])).toEqual([
      ['trade', undefined, true],
      ['ohlc', 1, false],
      ['ohlc', 60, false],
    ]);
    const frame =
      '{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD","open":65000.1,"high":65010.0,"low":64990.5,' +
      '"close":65001.2,"trades":7,"volume":0.12345678,"vwap":65000.7,"interval_begin":"2026-12-07T05:00:00.000000000Z",' +
      '"interval":1,"timestamp":"2026-12-07T05:01:00.000000Z"}]}';
    const { pushes, rejects } = parseWith(adapter, [frame]);
    expect(rejects).toEqual([]);
    expect(pushes).toMatchObject([
      { symbol: 'BTC/USD', market: 'BTC-USD', interval: '1m', kline: { open: '65000.1', high: '65010.0', trades: 7 } },
    ]);
  });

  it('OKX: candle<bar> on a second session at the business endpoint, its UTC-aligned bars', () => {
    const adapter = createAdapter('okx', { symbols: ['BTC-USDT'], klineIntervals: ['1m', '1h', '1d'] });
    const [trades, candles] = adapter.plan();
    expect(trades?.url).toBe('wss://ws.okx.com:8443/ws/v5/public');
    expect(trades?.klinesOnly).toBeUndefined();
    expect(candles).toMatchObject({ url: 'wss://ws.okx.com:8443/ws/v5/business', klinesOnly: true });
    expect(JSON.parse(candles?.subscribe[0] ?? '').args).toEqual([
      { channel: 'candle1m', instId: 'BTC-USDT' },
      { channel: 'candle1H', instId: 'BTC-USDT' },
      { channel: 'candle1Dutc', instId: 'BTC-USDT' },
    ]);
    expect(createAdapter('okx', { symbols: ['BTC-USDT'] }).plan()).toHaveLength(1);
    expect(businessUrl('ws://127.0.0.1:9/ws/v5/public')).toBe('ws://127.0.0.1:9/ws/v5/business');
    const row = ['1733547600000', '99000.1', '99010', '98990', '99001', '1.5', '148501.5', '148501.5', '0'];
    const { pushes, rejects } = parseWith(adapter, [
      JSON.stringify({ arg: { channel: 'candle1m', instId: 'BTC-USDT' }, data: [row] }),
      JSON.stringify({ event: 'subscribe', arg: { channel: 'candle1m', instId: 'BTC-USDT' }, connId: 'a' }),
    ]);
    expect(rejects).toEqual([]);
    expect(pushes).toMatchObject([{ symbol: 'BTC-USDT', interval: '1m', final: false, kline: { close: '99001' } }]);
  });
});
