import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Trade } from '../market/trade.js';
import type { OutgoingRecord } from './log.js';
import { encodeTrade, MAX_TRADE_COUNT, SCHEMA_HEADER, TRADE_HEADERS } from './record.js';
import { inputErrorReason, printableText, sampleTrade } from './record-testing.js';
import {
  decodeTradeBatch,
  decodeTrades,
  encodeTradeBatch,
  MAX_BATCH_TRADES,
  marketRecords,
  TRADE_BATCH_HEADERS,
} from './trade-batch.js';

const base = sampleTrade;
const reason = inputErrorReason;

const decimal = fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 20n }), fc.integer({ min: 0, max: 12 })).map(([n, scale]) => {
  const s = n.toString().padStart(scale + 1, '0');
  return scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`;
});

/** Trades of one market: any printable ids, decimals, sides, flags and counts. */
const marketTrades = fc
  .record({ exchange: fc.constantFrom('kraken', 'binance', 'sim'), symbol: printableText(20) })
  .chain(({ exchange, symbol }) =>
    fc
      .array(
        fc.record({
          tradeId: printableText(30),
          price: decimal,
          size: decimal,
          side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
          eventTime: fc.integer({ min: 0, max: 2 ** 42 }),
          receiveTime: fc.integer({ min: 0, max: 2 ** 42 }),
          simulated: fc.boolean(),
          tradeCount: fc.option(fc.integer({ min: 1, max: MAX_TRADE_COUNT }), { nil: undefined }),
        }),
        { minLength: 1, maxLength: 40 },
      )
      .map((rows) =>
        rows.map(
          ({ simulated, tradeCount, ...r }): Trade => ({
            ...r,
            exchange,
            symbol,
            market: 'X-Y',
            ...(simulated ? { simulated: true } : {}),
            ...(tradeCount !== undefined && tradeCount !== 1 ? { tradeCount } : {}),
          }),
        ),
      ),
  );

describe('trade batch v1', () => {
  it('round-trips the trades of one market, in order, as trade.v1 would carry each', () => {
    fc.assert(
      fc.property(marketTrades, (trades) => {
        const decoded = decodeTrades(encodeTradeBatch(trades), TRADE_BATCH_HEADERS);
        expect(decoded).toEqual(trades);
      }),
      { numRuns: 300 },
    );
  });

  it('is smaller than the same trades as trade.v1 values (the market is written once)', () => {
    const trades = Array.from({ length: 100 }, (_, i) => ({ ...base, tradeId: String(42377944 + i) }));
    const batch = encodeTradeBatch(trades).length;
    const single = trades.reduce((n, t) => n + encodeTrade(t).length, 0);
    expect(batch).toBeLessThan(single * 0.6);
  });

  it('refuses every truncation and every extra byte as malformed-record', () => {
    const value = encodeTradeBatch([base, { ...base, tradeId: '42377945', tradeCount: 3, simulated: true }]);
    for (let n = 0; n < value.length; n++) {
      expect(reason(() => decodeTradeBatch(value.subarray(0, n)))).toBe('malformed-record');
    }
    expect(reason(() => decodeTradeBatch(Buffer.concat([value, Buffer.from([0])])))).toBe('malformed-record');
  });

  it('refuses a count of 0, an unknown version, an unknown schema and a trade count of 0', () => {
    const value = Buffer.from(encodeTradeBatch([base]));
    const zero = Buffer.from(value);
    zero.writeUInt32LE(0, 2);
    expect(reason(() => decodeTradeBatch(zero))).toBe('malformed-record');
    const v2 = Buffer.from(value);
    v2[0] = 2;
    expect(reason(() => decodeTradeBatch(v2))).toBe('unsupported-schema');
    expect(reason(() => decodeTrades(value, { [SCHEMA_HEADER]: 'trade-batch.v9' }))).toBe('unsupported-schema');
    const counted = Buffer.from(encodeTradeBatch([{ ...base, tradeCount: 2 }]));
    counted.writeUInt32LE(0, counted.length - 4);
    expect(reason(() => decodeTradeBatch(counted))).toBe('malformed-record');
  });

  it('encodes one market only, 1 to MAX_BATCH_TRADES trades, strings up to 255 bytes', () => {
    expect(reason(() => encodeTradeBatch([base, { ...base, symbol: 'ETHUSDT' }]))).toBe('mixed-markets');
    expect(reason(() => encodeTradeBatch([]))).toBe('bad-batch');
    expect(reason(() => encodeTradeBatch([{ ...base, price: '1'.repeat(256) }]))).toBe('field-too-long');
    expect(reason(() => encodeTradeBatch([{ ...base, tradeId: 'é'.repeat(128) }]))).toBe('field-too-long');
  });

  it('refuses a trade id or market that is not printable ASCII as a data error', () => {
    const nul = encodeTradeBatch([base, { ...base, tradeId: '42377945\u0000' }]);
    expect(reason(() => decodeTradeBatch(nul))).toBe('bad-trade-id');
    expect(reason(() => decodeTradeBatch(encodeTradeBatch([{ ...base, tradeId: 'é'.repeat(127) }])))).toBe(
      'bad-trade-id',
    );
    expect(reason(() => decodeTradeBatch(encodeTradeBatch([{ ...base, symbol: 'BTC\u0000USDT' }])))).toBe('bad-symbol');
  });

  it('marketRecords: one trade stays a trade.v1 record; more are split in batches of MAX_BATCH_TRADES', () => {
    const one: OutgoingRecord[] = [];
    marketRecords([base], one);
    expect(one).toEqual([{ key: 'binance-futures:BTCUSDT', value: encodeTrade(base), headers: TRADE_HEADERS }]);
    const trades = Array.from({ length: MAX_BATCH_TRADES * 2 + 1 }, (_, i) => ({ ...base, tradeId: String(i) }));
    const many: OutgoingRecord[] = [];
    marketRecords(trades, many);
    expect(many.map((r) => [r.key, r.headers?.[SCHEMA_HEADER]])).toEqual([
      ['binance-futures:BTCUSDT', 'trade-batch.v1'],
      ['binance-futures:BTCUSDT', 'trade-batch.v1'],
      ['binance-futures:BTCUSDT', 'trade-batch.v1'],
    ]);
    expect(many.flatMap((r) => decodeTrades(r.value, r.headers)).map((t) => t.tradeId)).toEqual(
      trades.map((t) => t.tradeId),
    );
  });
});
