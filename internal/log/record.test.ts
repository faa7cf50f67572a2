import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Trade } from '../market/trade.js';
import { InputError } from '../runtime/errors.js';
import { decodeTrade, encodeTrade, SCHEMA_HEADER, TRADE_HEADERS, TRADE_SCHEMA_V1, tradeRecord } from './record.js';

const trade: Trade = {
  exchange: 'binance-futures',
  symbol: 'BTCUSDT',
  market: 'BTC-USDT',
  tradeId: '42377944',
  price: '9682.19',
  size: '0.010',
  side: 'sell',
  eventTime: 1582329602111,
  receiveTime: 1582329602418,
};

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err.reason;
    throw err;
  }
  return undefined;
}

describe('trade record v1', () => {
  it('round-trips a trade byte for byte, decimals untouched', () => {
    const value = encodeTrade(trade);
    expect(value[0]).toBe(1);
    expect(decodeTrade(value, TRADE_HEADERS)).toEqual(trade);
    expect(value.length).toBe(18 + 6 + 'binance-futuresBTCUSDTBTC-USDT423779449682.190.010'.length);
  });

  it('keeps the simulated label and leaves it off real trades', () => {
    const sim = decodeTrade(encodeTrade({ ...trade, exchange: 'sim', side: 'buy', simulated: true }));
    expect(sim.simulated).toBe(true);
    expect(sim.side).toBe('buy');
    expect('simulated' in decodeTrade(encodeTrade(trade))).toBe(false);
  });

  it('makes a keyed record with the schema header', () => {
    const r = tradeRecord(trade);
    expect(r.key).toBe('binance-futures:BTCUSDT');
    expect(r.headers?.[SCHEMA_HEADER]).toBe(TRADE_SCHEMA_V1);
  });

  it('decodes a plain Uint8Array view at an offset', () => {
    const value = encodeTrade(trade);
    const backing = new Uint8Array(value.length + 7);
    backing.set(value, 7);
    expect(decodeTrade(backing.subarray(7))).toEqual(trade);
  });

  it('round-trips any trade (property)', () => {
    const str = fc.string({ minLength: 0, maxLength: 40, unit: 'grapheme' });
    const time = fc.integer({ min: 0, max: 2 ** 53 - 1 });
    fc.assert(
      fc.property(
        fc.record({
          exchange: str,
          symbol: str,
          market: str,
          tradeId: str,
          price: str,
          size: str,
          side: fc.constantFrom('buy' as const, 'sell' as const),
          eventTime: time,
          receiveTime: time,
        }),
        (t) => {
          expect(decodeTrade(encodeTrade(t))).toEqual(t);
        },
      ),
    );
  });

  it('refuses unknown schemas and broken values with a reason', () => {
    const value = encodeTrade(trade);
    expect(reason(() => decodeTrade(value, { [SCHEMA_HEADER]: 'trade.v9' }))).toBe('unsupported-schema');
    const v2 = Buffer.from(value);
    v2[0] = 2;
    expect(reason(() => decodeTrade(v2))).toBe('unsupported-schema');
    expect(reason(() => decodeTrade(value.subarray(0, 10)))).toBe('malformed-record');
    expect(reason(() => decodeTrade(value.subarray(0, value.length - 1)))).toBe('malformed-record');
    expect(reason(() => decodeTrade(Buffer.concat([value, Buffer.from([0])])))).toBe('malformed-record');
    const json = Buffer.from(JSON.stringify(trade));
    expect(reason(() => decodeTrade(json))).toBe('unsupported-schema');
  });

  it('refuses to encode a field longer than 255 bytes', () => {
    expect(reason(() => encodeTrade({ ...trade, tradeId: 'x'.repeat(256) }))).toBe('field-too-long');
  });
});
