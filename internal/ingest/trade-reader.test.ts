import { describe, expect, it } from 'vitest';
import type { Trade } from '../market/trade.js';
import type { RejectReason } from './events.js';
import { digits, epochMsText, rfc3339, takerSide, text, tradeReader } from './trade-reader.js';
import { SymbolTable } from './venue.js';

const read = tradeReader('okx', new SymbolTable('okx', ['BTC-USDT']), {
  symbol: { read: (t) => text(t.instId), invalid: 'no instId' },
  unsubscribed: 'not subscribed',
  tradeId: { read: (t) => digits(t.tradeId), invalid: 'bad id' },
  tradeCount: {
    read: (raw, id) =>
      raw.count === undefined ? null : Number(raw.count) <= Number(id) + 1 ? Number(raw.count) : undefined,
    invalid: 'bad count',
  },
  price: { read: (t) => text(t.px), invalid: 'bad px' },
  size: { read: (t) => text(t.sz), invalid: 'bad sz' },
  eventTime: { read: (t) => epochMsText(t.ts), invalid: 'bad ts' },
  side: { read: (t) => takerSide(t.side, 'buy', 'sell'), invalid: 'bad side' },
});

const GOOD = { instId: 'BTC-USDT', tradeId: '7', px: '1.5', sz: '2', ts: '1700000000000', side: 'sell' };

function readOne(raw: unknown) {
  const rejects: Array<[RejectReason, string, string | undefined]> = [];
  const trade = read(raw, 9, { trade: () => {}, reject: (r, m, s) => rejects.push([r, m, s]) });
  return { trade, rejects };
}

describe('tradeReader', () => {
  it('reads a trade whose fields are all valid, with no tradeCount when the venue gives none', () => {
    const { trade, rejects } = readOne(GOOD);
    expect(rejects).toEqual([]);
    expect(trade).toEqual<Trade>({
      exchange: 'okx',
      symbol: 'BTC-USDT',
      market: 'BTC-USDT',
      tradeId: '7',
      price: '1.5',
      size: '2',
      side: 'sell',
      eventTime: 1_700_000_000_000,
      receiveTime: 9,
    });
    expect(trade && 'tradeCount' in trade).toBe(false);
    expect(readOne({ ...GOOD, count: '3' }).trade?.tradeCount).toBe(3);
  });

  it('rejects a trade once, with the reason of the first field that fails, in a fixed order', () => {
    const cases: Array<[unknown, RejectReason, string, string | undefined]> = [
      [[1], 'malformed-frame', 'trade is not an object', undefined],
      [{ ...GOOD, instId: 5 }, 'malformed-frame', 'no instId', undefined],
      [{ ...GOOD, instId: 'ETH-USDT' }, 'unknown-symbol', 'not subscribed', 'ETH-USDT'],
      [{ ...GOOD, tradeId: '7a', px: 1 }, 'bad-trade-id', 'bad id', 'BTC-USDT'],
      [{ ...GOOD, count: '9', px: 1 }, 'malformed-frame', 'bad count', 'BTC-USDT'],
      [{ ...GOOD, px: 1, sz: 1 }, 'bad-price', 'bad px', 'BTC-USDT'],
      [{ ...GOOD, sz: 1, ts: 'x' }, 'bad-size', 'bad sz', 'BTC-USDT'],
      [{ ...GOOD, ts: '-1', side: 'x' }, 'bad-time', 'bad ts', 'BTC-USDT'],
      [{ ...GOOD, side: 'Buy' }, 'bad-side', 'bad side', 'BTC-USDT'],
    ];
    for (const [raw, reason, message, symbol] of cases) {
      const { trade, rejects } = readOne(raw);
      expect(trade).toBeUndefined();
      expect(rejects).toEqual([[reason, message, symbol]]);
    }
  });

  it('reads an RFC 3339 time to epoch milliseconds and refuses text that is not one', () => {
    expect(rfc3339('2023-09-25T07:49:37.708706Z')).toBe(Date.UTC(2023, 8, 25, 7, 49, 37, 708));
    expect(rfc3339('yesterday')).toBeUndefined();
    expect(rfc3339(1)).toBeUndefined();
  });
});
