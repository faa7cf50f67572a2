import fc from 'fast-check';
import type { Trade } from '../market/trade.js';
import { InputError } from '../runtime/errors.js';

/** The first trade of the real BTCUSDT file, the record tests' sample. */
export const sampleTrade: Trade = Object.freeze({
  exchange: 'binance-futures',
  symbol: 'BTCUSDT',
  market: 'BTC-USDT',
  tradeId: '42377944',
  price: '9682.19',
  size: '0.010',
  side: 'sell',
  eventTime: 1582329602111,
  receiveTime: 1582329602418,
});

/** The InputError reason `fn` throws, or undefined when it returns; other errors are rethrown. */
export function inputErrorReason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err.reason;
    throw err;
  }
  return undefined;
}

/** Strings of printable ASCII (trade-fields.ts): what a trade id, exchange, symbol or market may be. */
export function printableText(maxLength: number): fc.Arbitrary<string> {
  return fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength,
  });
}
