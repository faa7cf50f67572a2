import { describe, expect, it } from 'vitest';
import { createKrakenAdapter } from './kraken.js';
import { parseAll } from './testing.js';

const adapter = createKrakenAdapter({ symbols: ['BTC/USD', 'MATIC/USD'] });

describe('kraken v2 adapter', () => {
  it('keeps prices and quantities exactly as Kraken printed the numbers', () => {
    const frame =
      '{"channel":"trade","type":"update","data":[' +
      '{"symbol":"MATIC/USD","side":"sell","price":0.5117,"qty":40.00000000,"ord_type":"market","trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"},' +
      '{"symbol":"BTC/USD","side":"buy","price":26000.1,"qty":1e-7,"ord_type":"limit","trade_id":4665907,"timestamp":"2023-09-25T07:49:37.709Z"}]}';
    const { trades, rejects } = parseAll(adapter, [frame]);
    expect(rejects).toEqual([]);
    expect(trades.map((t) => [t.market, t.tradeId, t.price, t.size, t.side, t.eventTime])).toEqual([
      ['MATIC-USD', '4665906', '0.5117', '40.00000000', 'sell', 1695628177708],
      ['BTC-USD', '4665907', '26000.1', '0.0000001', 'buy', 1695628177709],
    ]);
  });

  it('subscribes with a snapshot and keeps the connection alive with its own ping', () => {
    const [plan] = adapter.plan();
    expect(JSON.parse(plan?.subscribe[0] ?? '')).toMatchObject({
      method: 'subscribe',
      params: { channel: 'trade', symbol: ['BTC/USD', 'MATIC/USD'], snapshot: true },
    });
    expect(plan?.keepalive?.message).toBe('{"method":"ping"}');
  });

  it('ignores control messages and rejects bad ones', () => {
    const ok = { symbol: 'BTC/USD', side: 'buy', price: 1, qty: 1, trade_id: 1, timestamp: '2023-09-25T07:49:37Z' };
    const { trades, rejects } = parseAll(adapter, [
      '{"channel":"heartbeat"}',
      '{"channel":"status","type":"update","data":[{"system":"online"}]}',
      '{"method":"subscribe","result":{"channel":"trade"},"success":true}',
      '{"method":"pong"}',
      '{"method":"subscribe","error":"Currency pair not supported","success":false}',
      '{"channel":"book","data":[]}',
      JSON.stringify({ channel: 'trade', data: [{ ...ok, symbol: 'XBT/EUR' }] }),
      JSON.stringify({ channel: 'trade', data: [{ ...ok, price: '1' }] }),
      JSON.stringify({ channel: 'trade', data: [{ ...ok, trade_id: 1.5 }] }),
      '{"channel":"trade","data":',
    ]);
    expect(trades).toEqual([]);
    expect(rejects).toEqual([
      'venue-error',
      'unknown-message',
      'unknown-symbol',
      'bad-price',
      'bad-trade-id',
      'malformed-frame',
    ]);
  });
});
