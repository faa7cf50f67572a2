import { describe, expect, it } from 'vitest';
import { TickmeshError, UnavailableError } from '../../runtime/errors.js';
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

  describe('REST backfill', () => {
    /**
     * Kraken's public Trades endpoint as documented: trades after `since` (ns, exclusive), oldest
     * first, `count` at most, keyed by Kraken's own pair name, with `last` the cursor of the next
     * page. The tape: ids 500..529, one every 100 ms from `t0` (the last two with a fraction
     * longer than milliseconds, as Kraken prints them).
     */
    const t0 = 1_688_669_597_000;
    const tape = Array.from({ length: 30 }, (_, i) => ({
      id: 500 + i,
      ns: BigInt(t0 + i * 100) * 1_000_000n + 123_456n,
    }));
    function krakenRest(calls: URL[], page = 8): typeof fetch {
      return (async (input: string | URL | Request) => {
        const url = new URL(String(input));
        calls.push(url);
        const since = BigInt(url.searchParams.get('since') ?? '0');
        const count = Math.min(Number(url.searchParams.get('count') ?? 1000), page);
        const rows = tape.filter((t) => t.ns > since).slice(0, count);
        const last = rows.length > 0 ? (rows[rows.length - 1]?.ns ?? since) : since;
        const text = rows.map(
          (t) =>
            `["30243.40000","0.00376960",${t.ns / 1_000_000_000n}.${String(t.ns % 1_000_000_000n)
              .padStart(9, '0')
              .slice(0, 7)},"${t.id % 2 ? 's' : 'b'}","l","",${t.id}]`,
        );
        return new Response(`{"error":[],"result":{"XXBTZUSD":[${text.join(',')}],"last":"${last}"}}`, { status: 200 });
      }) as typeof fetch;
    }

    it('pages forward from the last trade before the gap and keeps the ids of the gap', async () => {
      const calls: URL[] = [];
      const a = createKrakenAdapter({ symbols: ['BTC/USD'], restUrl: 'http://rest.test', fetch: krakenRest(calls) });
      const got = await a.backfill?.({
        symbol: 'BTC/USD',
        fromId: 503n,
        toId: 520n,
        afterTime: t0 + 200, // trade 502, the last one produced
        beforeTime: t0 + 2100,
        signal: AbortSignal.timeout(5_000),
      });
      expect(got?.map((t) => t.tradeId)).toEqual(Array.from({ length: 18 }, (_, i) => String(503 + i)));
      expect(got?.[0]).toMatchObject({
        exchange: 'kraken',
        symbol: 'BTC/USD',
        market: 'BTC-USD',
        price: '30243.40000',
        size: '0.00376960',
        side: 'sell',
        eventTime: t0 + 300,
      });
      expect(got?.[1]?.side).toBe('buy');
      // The REST pair is the v2 symbol without its slash; the first page starts a millisecond
      // before trade 502, each next one at the answer's `last`; it stops once id 520 was seen.
      expect(calls[0]?.pathname).toBe('/0/public/Trades');
      expect(calls[0]?.searchParams.get('pair')).toBe('BTCUSD');
      expect(calls[0]?.searchParams.get('since')).toBe(String(BigInt(t0 + 199) * 1_000_000n));
      expect(calls.map((c) => c.searchParams.get('since')).slice(1)).toEqual([
        String(tape[9]?.ns),
        String(tape[17]?.ns),
      ]);
      expect(calls).toHaveLength(3);
    });

    it('without the time of the last trade (after a restart) looks back from the trade that revealed the gap', async () => {
      const calls: URL[] = [];
      const a = createKrakenAdapter({
        symbols: ['BTC/USD'],
        restUrl: 'http://rest.test',
        fetch: krakenRest(calls, 1000),
      });
      const got = await a.backfill?.({
        symbol: 'BTC/USD',
        fromId: 500n,
        toId: 528n,
        beforeTime: t0 + 2900,
        signal: AbortSignal.timeout(5_000),
      });
      expect(got).toHaveLength(29);
      expect(calls[0]?.searchParams.get('since')).toBe(String(BigInt(t0 + 2900 - 600_000 - 1) * 1_000_000n));
    });

    it("turns Kraken's error list into errors, retriable for its rate limit", async () => {
      const answer = (error: string) =>
        createKrakenAdapter({
          symbols: ['BTC/USD'],
          restUrl: 'http://rest.test',
          fetch: (async () => new Response(JSON.stringify({ error: [error] }), { status: 200 })) as typeof fetch,
        }).backfill?.({ symbol: 'BTC/USD', fromId: 1n, toId: 2n, beforeTime: t0, signal: AbortSignal.timeout(5_000) });
      await expect(answer('EAPI:Rate limit exceeded')).rejects.toBeInstanceOf(UnavailableError);
      const unknownPair = answer('EQuery:Unknown asset pair');
      await expect(unknownPair).rejects.toBeInstanceOf(TickmeshError);
      await expect(unknownPair).rejects.not.toBeInstanceOf(UnavailableError);
      await expect(unknownPair).rejects.toThrow(/EQuery:Unknown asset pair/);
    });

    it('is off with an empty REST URL', () => {
      expect(createKrakenAdapter({ symbols: ['BTC/USD'], restUrl: '' }).backfill).toBeUndefined();
    });
  });
});
