import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Trade } from '../market/trade.js';
import { isPrintableText, MAX_NAME, MAX_TRADE_ID } from '../market/trade-fields.js';
import { InputError } from '../runtime/errors.js';
import type { Headers } from './log.js';
import { encodeTrade, SCHEMA_HEADER, TRADE_HEADERS } from './record.js';
import { sampleTrade } from './record-testing.js';
import { decodeTrades, encodeTradeBatch, TRADE_BATCH_HEADERS } from './trade-batch.js';

/**
 * The worker's record decoders under arbitrary and corrupted bytes (fuzz): they return trades
 * whose text fields are printable ASCII, or throw InputError with a reason (a data error that the
 * worker sends to the rejected topic); never another error, never a crash of the partition.
 */

const HEADERS: readonly (Headers | undefined)[] = [
  undefined,
  TRADE_HEADERS,
  TRADE_BATCH_HEADERS,
  { [SCHEMA_HEADER]: 'trade.v9' },
  {},
];

function decodeChecked(value: Uint8Array, headers: Headers | undefined): Trade[] | string {
  let trades: Trade[];
  try {
    trades = decodeTrades(value, headers);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).reason;
  }
  expect(trades.length).toBeGreaterThan(0);
  expect(trades.length).toBeLessThanOrEqual(value.length);
  for (const t of trades) {
    expect(isPrintableText(t.tradeId, MAX_TRADE_ID)).toBe(true);
    for (const s of [t.exchange, t.symbol, t.market]) expect(isPrintableText(s, MAX_NAME)).toBe(true);
  }
  return trades;
}

const valid = [
  encodeTrade(sampleTrade),
  encodeTrade({ ...sampleTrade, tradeCount: 7, simulated: true }),
  encodeTradeBatch([sampleTrade, { ...sampleTrade, tradeId: '42377945', tradeCount: 3 }]),
];

describe('trade record decoders under hostile bytes (fuzz)', () => {
  it('arbitrary bytes under any header: trades or an InputError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...HEADERS), (bytes, headers) => {
        decodeChecked(bytes, headers);
      }),
      { numRuns: 20_000 },
    );
  });

  it('valid records with bytes flipped, cut or added: trades or an InputError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...valid.keys()),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: -8, max: 8 }),
        fc.constantFrom(...HEADERS),
        (which, flips, resize, headers) => {
          const base = valid[which] as Buffer;
          const bytes = Buffer.alloc(Math.max(0, base.length + resize));
          base.copy(bytes, 0, 0, Math.min(base.length, bytes.length));
          for (const [at, b] of flips) if (bytes.length > 0) bytes[at % bytes.length] = b;
          decodeChecked(bytes, headers);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('a NUL or any control byte in a trade id or symbol is a data error, in either format', () => {
    for (const bad of ['1\u0000', '\u0001', '1\u001f2', '1\u007f', '1 2']) {
      expect(decodeChecked(encodeTrade({ ...sampleTrade, tradeId: bad }), TRADE_HEADERS)).toBe('bad-trade-id');
      expect(decodeChecked(encodeTradeBatch([{ ...sampleTrade, tradeId: bad }]), TRADE_BATCH_HEADERS)).toBe(
        'bad-trade-id',
      );
      expect(decodeChecked(encodeTrade({ ...sampleTrade, symbol: bad }), TRADE_HEADERS)).toBe('bad-symbol');
      expect(decodeChecked(encodeTradeBatch([{ ...sampleTrade, market: bad }]), TRADE_BATCH_HEADERS)).toBe(
        'bad-symbol',
      );
    }
  });
});
