import { describe, expect, it } from 'vitest';
import { createOkxAdapter } from './okx.js';
import { parseAll } from './testing.js';

describe('okx adapter', () => {
  const adapter = createOkxAdapter({ symbols: ['BTC-USDT', 'ETH-USDT-SWAP'] });

  it('reads trades and ignores events and pongs', () => {
    const { trades, rejects } = parseAll(adapter, [
      'pong',
      '{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"a4d3ae55"}',
      '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897","count":"3"}]}',
      '{"arg":{"channel":"trades","instId":"ETH-USDT-SWAP"},"data":[{"instId":"ETH-USDT-SWAP","tradeId":"9","px":"3000","sz":"1","side":"sell","ts":"1630048897898"}]}',
      '{"event":"error","code":"60012","msg":"Invalid request"}',
    ]);
    expect(rejects).toEqual(['venue-error']);
    expect(trades.map((t) => [t.market, t.tradeId, t.price, t.size, t.side])).toEqual([
      ['BTC-USDT', '130639474', '42219.9', '0.12060306', 'buy'],
      ['ETH-USDT-SWAP', '9', '3000', '1', 'sell'],
    ]);
    expect(adapter.sequentialIds).toBe(false);
  });
});
