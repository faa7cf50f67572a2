import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Trade } from '../market/trade.js';
import {
  decodeTrade,
  encodeTrade,
  MAX_TRADE_COUNT,
  SCHEMA_HEADER,
  TRADE_HEADERS,
  TRADE_SCHEMA_V1,
  tradeRecord,
} from './record.js';
import { inputErrorReason, printableText, sampleTrade } from './record-testing.js';

const trade = sampleTrade;
const reason = inputErrorReason;

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
    const name = printableText(40);
    const time = fc.integer({ min: 0, max: 2 ** 53 - 1 });
    fc.assert(
      fc.property(
        fc.record({
          exchange: name,
          symbol: name,
          market: name,
          tradeId: name,
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

  it('refuses a trade id, exchange, symbol or market that is not printable ASCII as a data error', () => {
    // A NUL in an OKX or Bybit id passed ingest and stopped the partition at PostgreSQL (22P05).
    expect(reason(() => decodeTrade(encodeTrade({ ...trade, tradeId: '123\u0000' })))).toBe('bad-trade-id');
    expect(reason(() => decodeTrade(encodeTrade({ ...trade, tradeId: '' })))).toBe('bad-trade-id');
    expect(reason(() => decodeTrade(encodeTrade({ ...trade, tradeId: 'é' })))).toBe('bad-trade-id');
    expect(reason(() => decodeTrade(encodeTrade({ ...trade, tradeId: '1'.repeat(129) })))).toBe('bad-trade-id');
    expect(reason(() => decodeTrade(encodeTrade({ ...trade, symbol: 'BTC\u0000' })))).toBe('bad-symbol');
    expect(reason(() => decodeTrade(encodeTrade({ ...trade, market: 'BTC USDT' })))).toBe('bad-symbol');
    expect(reason(() => decodeTrade(encodeTrade({ ...trade, exchange: '' })))).toBe('bad-symbol');
    // The identity cache holds only identities that passed: a bad one after a good one still fails.
    expect(reason(() => decodeTrade(encodeTrade({ ...trade, symbol: 'BTCUSDT\n' })))).toBe('bad-symbol');
    expect(decodeTrade(encodeTrade({ ...trade, tradeId: '1'.repeat(128) })).tradeId).toBe('1'.repeat(128));
  });

  it('decodes the market of each value when markets interleave and buffers are reused', () => {
    const markets = ['BTC-USDT', 'BTC-USDC', 'ETH-USDT', 'BTC-USDT'].map((m, i) => ({
      ...trade,
      symbol: m.replace('-', ''),
      market: m,
      tradeId: String(i),
    }));
    const values = markets.map(encodeTrade);
    for (let round = 0; round < 3; round++) {
      values.forEach((v, i) => {
        expect(decodeTrade(v)).toEqual(markets[i]);
      });
    }
    // A consumer may hand over a buffer that is later overwritten with another record.
    const reused = Buffer.from(values[0] as Buffer);
    expect(decodeTrade(reused).market).toBe('BTC-USDT');
    (values[1] as Buffer).copy(reused);
    expect(decodeTrade(reused)).toEqual(markets[1]);
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

describe('trade record v1: trade count (flag bit 2)', () => {
  const agg: Trade = { ...trade, tradeCount: 4 };

  it('carries a trade count other than 1 in four bytes after size', () => {
    const plain = encodeTrade(trade);
    const value = encodeTrade(agg);
    expect(value.length).toBe(plain.length + 4);
    expect((value[1] as number) & 4).toBe(4);
    expect(value.readUInt32LE(value.length - 4)).toBe(4);
    expect(decodeTrade(value, TRADE_HEADERS)).toEqual(agg);
    const sim = { ...agg, exchange: 'sim', simulated: true, tradeCount: MAX_TRADE_COUNT };
    expect(decodeTrade(encodeTrade(sim))).toEqual(sim);
  });

  it('writes nothing for an absent count or a count of 1 (absent means 1)', () => {
    const plain = encodeTrade(trade);
    expect((plain[1] as number) & 4).toBe(0);
    expect(encodeTrade({ ...trade, tradeCount: 1 })).toEqual(plain);
    expect('tradeCount' in decodeTrade(plain)).toBe(false);
  });

  it('decodes values written before the trade count existed', () => {
    // Bytes written by the encoder of commit 45f1d49: the RECORD-FORMAT.md example, and a simulated sell.
    const before = Buffer.from(
      '010000f0031aa30677420020171aa30677420f62696e616e63652d667574757265730742544355534454084254432d5553445408' +
        '3432333737393434043936383205302e313332',
      'hex',
    );
    expect(decodeTrade(before, TRADE_HEADERS)).toEqual({
      exchange: 'binance-futures',
      symbol: 'BTCUSDT',
      market: 'BTC-USDT',
      tradeId: '42377944',
      price: '9682',
      size: '0.132',
      side: 'buy',
      eventTime: Date.parse('2020-02-22T00:00:02.111Z'),
      receiveTime: Date.parse('2020-02-22T00:00:02.418Z'),
    });
    const sim = Buffer.from(
      '010300008056febc784200108056febc78420373696d07534f4c2d55534407534f4c2d555344013703312e350132',
      'hex',
    );
    expect(decodeTrade(sim)).toEqual({
      exchange: 'sim',
      symbol: 'SOL-USD',
      market: 'SOL-USD',
      tradeId: '7',
      price: '1.5',
      size: '2',
      side: 'sell',
      eventTime: 1700000000000,
      receiveTime: 1700000000001,
      simulated: true,
    });
  });

  it('round-trips any trade count (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_TRADE_COUNT }), fc.boolean(), (tradeCount, simulated) => {
        const t: Trade = simulated ? { ...trade, tradeCount, simulated } : { ...trade, tradeCount };
        const back = decodeTrade(encodeTrade(t));
        expect(back.tradeCount ?? 1).toBe(tradeCount);
        expect(back.simulated === true).toBe(simulated);
        expect(back.size).toBe(trade.size);
      }),
    );
  });

  it('refuses lengths that do not add up with or without the count', () => {
    const value = encodeTrade(agg);
    expect(reason(() => decodeTrade(value.subarray(0, value.length - 1)))).toBe('malformed-record');
    expect(reason(() => decodeTrade(value.subarray(0, value.length - 4)))).toBe('malformed-record');
    expect(reason(() => decodeTrade(Buffer.concat([value, Buffer.from([0])])))).toBe('malformed-record');
    // The flag without the four bytes, and four stray bytes without the flag.
    const flagOnly = Buffer.from(encodeTrade(trade));
    flagOnly[1] = (flagOnly[1] as number) | 4;
    expect(reason(() => decodeTrade(flagOnly))).toBe('malformed-record');
    const noFlag = Buffer.from(value);
    noFlag[1] = (noFlag[1] as number) & ~4;
    expect(reason(() => decodeTrade(noFlag))).toBe('malformed-record');
    const zero = Buffer.from(value);
    zero.writeUInt32LE(0, zero.length - 4);
    expect(reason(() => decodeTrade(zero))).toBe('malformed-record');
    // A short value with the flag set must not read past its end.
    const tiny = Buffer.alloc(24);
    tiny[0] = 1;
    tiny[1] = 4;
    expect(reason(() => decodeTrade(tiny))).toBe('malformed-record');
  });

  it('refuses to encode a count that does not fit', () => {
    for (const tradeCount of [0, -1, 2.5, MAX_TRADE_COUNT + 1, Number.NaN]) {
      expect(reason(() => encodeTrade({ ...trade, tradeCount }))).toBe('bad-trade-count');
    }
  });
});
