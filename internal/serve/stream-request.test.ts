import { describe, expect, it } from 'vitest';
import { streamRequestParser } from './stream-request.js';

const parse = streamRequestParser(['1m', '5m']);
const subjects = (msg: unknown) => {
  const r = parse(JSON.stringify(msg));
  if (!r.ok) throw new Error(r.error);
  return r.plan.subjects;
};

describe('stream requests', () => {
  it('turn filters into bus subjects', () => {
    expect(
      subjects({ subscribe: { candles: { interval: '1m', exchange: '*', symbol: '*' }, alerts: true, index: true } }),
    ).toEqual([
      { topic: 'candle', subject: 'tickmesh.candle.*.1m.*.*' },
      { topic: 'alert', subject: 'tickmesh.alert.*.*.*' },
      { topic: 'index', subject: 'tickmesh.index.*' },
    ]);
    expect(
      subjects({
        subscribe: {
          candles: [
            { interval: '5m', exchange: 'kraken', symbol: 'BTC/USD', kind: 'closed' },
            { interval: '*', symbol: 'BTC.D' },
          ],
          alerts: { kind: 'whale_trade', exchange: 'binance' },
          index: { asset: 'BTC' },
        },
      }).map((s) => s.subject),
    ).toEqual([
      'tickmesh.candle.closed.5m.kraken.BTC/USD',
      'tickmesh.candle.*.*.*.BTC_D',
      'tickmesh.alert.whale_trade.binance.*',
      'tickmesh.index.BTC',
    ]);
    expect(subjects({ subscribe: { alerts: false } })).toEqual([]);
    expect(
      subjects({
        subscribe: {
          indicators: [
            { interval: '1m', exchange: 'binance' },
            { interval: '*', symbol: 'BTC.D' },
          ],
        },
      }),
    ).toEqual([
      { topic: 'indicator', subject: 'tickmesh.indicator.1m.binance.*' },
      { topic: 'indicator', subject: 'tickmesh.indicator.*.*.BTC_D' },
    ]);
  });

  it('say what is wrong', () => {
    const error = (text: string) => {
      const r = parse(text);
      return r.ok ? undefined : r.error;
    };
    expect(error('{')).toBe('message is not JSON');
    expect(error('{"subscribe":{"candles":{"interval":"3m"}}}')).toMatch(/subscribe\.candles/);
    expect(error('{"subscribe":{"candles":{}}}')).toMatch(/interval/);
    expect(error('{"subscribe":{"candles":{"interval":"1m","exchange":"a b"}}}')).toMatch(/whitespace/);
    expect(error('{"subscribe":{"trades":true}}')).toMatch(/trades/);
    expect(error('{"unsubscribe":true}')).toMatch(/subscribe/);
    const many = Array.from({ length: 33 }, () => ({ interval: '1m' }));
    expect(error(JSON.stringify({ subscribe: { candles: many } }))).toBeDefined();
  });
});
