import { describe, expect, it } from 'vitest';
import { createCoinbaseAdapter } from './coinbase.js';
import { parseAll } from './testing.js';

const adapter = createCoinbaseAdapter({ symbols: ['BTC-USD', 'ETH-USD'], restUrl: '' });
const trades = (events: unknown[]) =>
  JSON.stringify({
    channel: 'market_trades',
    client_id: '',
    timestamp: '2023-02-09T20:19:35.39625135Z',
    sequence_num: 0,
    events,
  });

describe('coinbase adapter', () => {
  it('subscribes market_trades and heartbeats for the products', () => {
    const [plan] = adapter.plan();
    expect(plan?.subscribe.map((s) => JSON.parse(s))).toEqual([
      { type: 'subscribe', product_ids: ['BTC-USD', 'ETH-USD'], channel: 'market_trades' },
      { type: 'subscribe', product_ids: ['BTC-USD', 'ETH-USD'], channel: 'heartbeats' },
    ]);
  });

  it('reads trades in id order with the taker side', () => {
    const frame = trades([
      {
        type: 'update',
        trades: [
          {
            trade_id: '12',
            product_id: 'BTC-USD',
            price: '21921.73',
            size: '0.06317902',
            side: 'SELL',
            time: '2023-02-09T20:19:35.396Z',
          },
          {
            trade_id: '11',
            product_id: 'BTC-USD',
            price: '21921.74',
            size: '0.1',
            side: 'BUY',
            time: '2023-02-09T20:19:35.395Z',
          },
        ],
      },
    ]);
    const { trades: got, rejects } = parseAll(adapter, [frame]);
    expect(rejects).toEqual([]);
    expect(got.map((t) => [t.tradeId, t.market, t.price, t.size, t.side, t.eventTime])).toEqual([
      ['11', 'BTC-USD', '21921.74', '0.1', 'sell', 1675973975395],
      ['12', 'BTC-USD', '21921.73', '0.06317902', 'buy', 1675973975396],
    ]);
  });

  it('ignores heartbeats and subscription acks, rejects the rest with reasons', () => {
    const ok = {
      trade_id: '1',
      product_id: 'BTC-USD',
      price: '1',
      size: '1',
      side: 'BUY',
      time: '2023-02-09T20:19:35Z',
    };
    const { trades: got, rejects } = parseAll(adapter, [
      JSON.stringify({ channel: 'heartbeats', events: [{ current_time: 'x', heartbeat_counter: '1' }] }),
      JSON.stringify({ channel: 'subscriptions', events: [] }),
      'nope',
      JSON.stringify({ type: 'error', message: 'bad' }),
      JSON.stringify({ channel: 'level2', events: [] }),
      trades([{ type: 'update', trades: [{ ...ok, product_id: 'DOGE-USD' }] }]),
      trades([{ type: 'update', trades: [{ ...ok, trade_id: 'abc' }] }]),
      trades([{ type: 'update', trades: [{ ...ok, time: 'yesterday' }] }]),
      trades([{ type: 'update', trades: [{ ...ok, side: 'UP' }] }]),
      trades([{ type: 'update', trades: [{ ...ok, price: 5 }] }]),
    ]);
    expect(got).toEqual([]);
    expect(rejects).toEqual([
      'malformed-frame',
      'venue-error',
      'unknown-message',
      'unknown-symbol',
      'bad-trade-id',
      'bad-time',
      'bad-side',
      'bad-price',
    ]);
  });

  it('backfills by paging the Exchange API backwards from the gap end', async () => {
    const calls: string[] = [];
    const fake = (async (url: string) => {
      calls.push(url);
      const after = Number(new URL(url).searchParams.get('after'));
      const rows = [];
      for (let id = after - 1; id >= Math.max(after - 3, 1); id--) {
        rows.push({ trade_id: id, price: '10.5', size: '2', side: 'sell', time: '2023-02-09T20:19:35.100Z' });
      }
      return new Response(JSON.stringify(rows), { status: 200 });
    }) as typeof fetch;
    const a = createCoinbaseAdapter({ symbols: ['BTC-USD'], restUrl: 'http://rest.test', fetch: fake });
    const got = await a.backfill?.({
      symbol: 'BTC-USD',
      fromId: 100n,
      toId: 105n,
      beforeTime: Date.now(),
      signal: new AbortController().signal,
    });
    expect(got?.map((t) => t.tradeId).sort()).toEqual(['100', '101', '102', '103', '104', '105']);
    expect(got?.[0]?.side).toBe('buy');
    expect(calls[0]).toBe('http://rest.test/products/BTC-USD/trades?after=106&limit=1000');
  });
});
