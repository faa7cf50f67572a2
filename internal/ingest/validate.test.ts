import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Trade } from '../market/trade.js';
import { checkTrade, isPositiveDecimal, plainDecimal } from './validate.js';

const ok: Trade = {
  exchange: 'binance',
  symbol: 'BTCUSDT',
  market: 'BTC-USDT',
  tradeId: '1',
  price: '9682.19',
  size: '0.010',
  side: 'buy',
  eventTime: 1582329602111,
  receiveTime: 1582329602418,
};

describe('validation', () => {
  it.each(['1', '0.1', '9682.19', '0.00000638', '10.000', '007'])('%s is a positive decimal', (s) => {
    expect(isPositiveDecimal(s)).toBe(true);
  });
  it.each(['0', '0.000', '-1', '1e5', '', '.5', '5.', 'NaN', 'Infinity', ' 1', '1,5', '0x10'])('%s is not', (s) => {
    expect(isPositiveDecimal(s)).toBe(false);
  });

  it('is exactly the two regular expressions it replaced, on any string of digits, points and other characters', () => {
    const reference = (s: string) => /^\d{1,30}(?:\.\d{1,30})?$/.test(s) && /[1-9]/.test(s);
    const unit = fc.constantFrom(...'0000123456789..-+e x\u0660'.split(''));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 70 }), (s) => {
        expect(isPositiveDecimal(s)).toBe(reference(s));
      }),
      { numRuns: 20_000 },
    );
    for (const s of ['1'.repeat(30), '1'.repeat(31), `1.${'0'.repeat(30)}`, `1.${'0'.repeat(31)}`, '0.0.1']) {
      expect(isPositiveDecimal(s)).toBe(reference(s));
    }
  });

  it('names the first failed check', () => {
    expect(checkTrade(ok)).toBeUndefined();
    expect(checkTrade({ ...ok, price: '0' })).toBe('bad-price');
    expect(checkTrade({ ...ok, size: '-0.1' })).toBe('bad-size');
    expect(checkTrade({ ...ok, eventTime: 1582329602.5 })).toBe('bad-time');
    expect(checkTrade({ ...ok, eventTime: 1582329602 })).toBe('bad-time'); // seconds, not ms
    expect(checkTrade({ ...ok, tradeId: '' })).toBe('bad-trade-id');
    // 1 to 128 printable ASCII characters, as every venue prints its ids.
    expect(checkTrade({ ...ok, tradeId: '9'.repeat(128) })).toBeUndefined();
    expect(checkTrade({ ...ok, tradeId: '9'.repeat(129) })).toBe('bad-trade-id');
    expect(checkTrade({ ...ok, tradeId: 'a1b2c3d4-0000-4000-8000-00000000000f' })).toBeUndefined();
    for (const bad of ['1\u0000', '\u0000', '12 3', '1\n', 'é', '1\u007f', '\ud83d\ude00']) {
      expect(checkTrade({ ...ok, tradeId: bad })).toBe('bad-trade-id');
    }
    expect(checkTrade({ ...ok, symbol: 'BTC\u0000USDT' })).toBe('unknown-symbol');
    expect(checkTrade({ ...ok, symbol: 'XBT/USD' })).toBeUndefined();
    expect(checkTrade({ ...ok, side: 'up' as never })).toBe('bad-side');
    expect(checkTrade({ ...ok, market: '' })).toBe('unknown-symbol');
  });

  it('bounds the event time by the receive time of the trade plus the skew, not by the clock now', () => {
    // A replay of 2020 data carries 2020 receive times: valid whenever it runs.
    expect(checkTrade({ ...ok, eventTime: ok.receiveTime + 120_000 })).toBeUndefined();
    expect(checkTrade({ ...ok, eventTime: ok.receiveTime + 120_001 })).toBe('future-time');
    expect(checkTrade({ ...ok, eventTime: ok.receiveTime + 120_001 }, 200_000)).toBeUndefined();
    // The 2099 trade that took a whole partition.
    expect(checkTrade({ ...ok, eventTime: Date.UTC(2099, 0, 1) })).toBe('future-time');
    // A receive time that is not a number bounds nothing: refused.
    expect(checkTrade({ ...ok, receiveTime: Number.NaN })).toBe('future-time');
    // Received before it happened by a few seconds (a venue's clock ahead of ours): fine.
    expect(checkTrade({ ...ok, eventTime: ok.receiveTime + 3_000 })).toBeUndefined();
  });

  it('rewrites exponent notation without a float', () => {
    expect(plainDecimal('1e-7')).toBe('0.0000001');
    expect(plainDecimal('1.5E-7')).toBe('0.00000015');
    expect(plainDecimal('2.5e3')).toBe('2500');
    expect(plainDecimal('1.23456789e4')).toBe('12345.6789');
    expect(plainDecimal('0.10000000')).toBe('0.10000000');
    expect(plainDecimal('42')).toBe('42');
  });

  it('plainDecimal agrees with the number for any exponent form (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999 }), fc.integer({ min: -20, max: 20 }), (mantissa, exp) => {
        const s = `${mantissa}e${exp}`;
        const out = plainDecimal(s);
        expect(out).toMatch(/^\d+(\.\d+)?$/);
        expect(Number(out)).toBeCloseTo(Number(s), 10);
        expect(Number(out) / Number(s)).toBeCloseTo(1, 12);
      }),
    );
  });
});
