import { describe, expect, it } from 'vitest';
import { decodeKlineRecord, encodeKlineRecord, type KlineRecord, klineRecordKey } from './kline-record.js';

const record: KlineRecord = {
  v: 1,
  exchange: 'binance-futures',
  symbol: 'CTKUSDT',
  market: 'CTK-USDT',
  interval: '1m',
  final: true,
  receivedAt: 1626992760123,
  kline: {
    openTime: 1626992700000,
    open: '1.2850',
    high: '1.2870',
    low: '1.2840',
    close: '1.2860',
    volume: '1520',
    quoteVolume: '1954.33',
    trades: 9,
    takerBuyVolume: '800',
    takerBuyQuoteVolume: '1028.8',
  },
};

describe('kline.v1 records', () => {
  it('read back equal, keyed like the market’s trades', () => {
    expect(decodeKlineRecord(encodeKlineRecord(record))).toEqual({ record });
    expect(klineRecordKey(record)).toBe('binance-futures:CTKUSDT');
    const { final: _, ...unmarked } = record;
    expect(decodeKlineRecord(JSON.stringify(unmarked))).toEqual({ record: { ...unmarked, final: undefined } });
  });

  it('refuse what is not one, with the reason', () => {
    const bad = (patch: Record<string, unknown>) => decodeKlineRecord(JSON.stringify({ ...record, ...patch }));
    expect(decodeKlineRecord('{')).toEqual({ reject: 'not a JSON object' });
    expect(bad({ v: 2 })).toEqual({ reject: 'not kline.v1' });
    expect(bad({ interval: '7m' })).toEqual({ reject: 'unknown interval' });
    expect(bad({ symbol: '' })).toEqual({ reject: 'symbol missing' });
    expect(bad({ kline: { ...record.kline, high: '1e3' } })).toEqual({ reject: 'kline.high is not a plain decimal' });
    expect(bad({ kline: { ...record.kline, volume: -1 } })).toEqual({ reject: 'kline.volume is not a plain decimal' });
    expect(bad({ kline: { ...record.kline, trades: 1.5 } })).toEqual({ reject: 'kline.trades is not a count' });
    expect(bad({ final: 'yes' })).toEqual({ reject: 'final is not a boolean' });
  });
});
