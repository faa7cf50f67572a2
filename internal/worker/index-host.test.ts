import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../bus/memory-bus.js';
import { priceSubject } from '../bus/subject-names.js';
import { silentLogger } from '../observe/logger.js';
import { createIndexHost, ownerOf } from './index-host.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('IndexHost', () => {
  it('builds the BTC index from price updates of several venues over the bus', async () => {
    const bus = createMemoryBus();
    const ac = new AbortController();
    const host = createIndexHost({ bus, logger: silentLogger(), owns: (a) => a === 'BTC' });
    await host.start(ac.signal);
    const indexes = bus.subscribe('tickmesh.index.>', { signal: ac.signal });
    const send = (exchange: string, symbol: string, market: string, price: string, volume: string) =>
      bus.publish(
        priceSubject({ market, exchange, symbol }),
        encoder.encode(JSON.stringify({ exchange, symbol, market, price, volume, time: 1, openTime: 0 })),
      );
    send('binance', 'BTCUSDT', 'BTC-USDT', '100', '1');
    send('coinbase', 'BTC-USD', 'BTC-USD', '102', '1');
    send('kraken', 'BTC/USD', 'BTC-USD', '101', '1');
    send('binance', 'ETHUSDT', 'ETH-USDT', '5', '1');
    // Published in one turn of the event loop: conflated to the latest BTC index.
    const it = indexes[Symbol.asyncIterator]();
    const next = async () =>
      JSON.parse(decoder.decode(((await it.next()) as IteratorYieldResult<{ data: Uint8Array }>).value.data)) as {
        asset: string;
        price: number;
        venues: unknown[];
      };
    const first = await next();
    expect([first.asset, first.price, first.venues.length]).toEqual(['BTC', 101, 3]);
    send('coinbase', 'BTC-USD', 'BTC-USD', '99', '1');
    expect((await next()).price).toBe(100);
    ac.abort();
    await host.close();
    await bus.close();
  });

  it('publishes the latest value of each asset once per turn of the event loop, and what is pending at close', async () => {
    const bus = createMemoryBus();
    const ac = new AbortController();
    const host = createIndexHost({ bus, logger: silentLogger(), owns: () => true });
    await host.start(ac.signal);
    const indexes = bus.subscribe('tickmesh.index.>', { signal: ac.signal, capacity: 1_000 });
    const send = (asset: string, price: number, time: number) =>
      bus.publish(
        priceSubject({ market: `${asset}-USDT`, exchange: 'binance', symbol: `${asset}USDT` }),
        encoder.encode(
          JSON.stringify({
            exchange: 'binance',
            symbol: `${asset}USDT`,
            market: `${asset}-USDT`,
            price: String(price),
            volume: '1',
            time,
            openTime: 0,
          }),
        ),
      );
    for (let i = 1; i <= 100; i++) {
      send('BTC', 100 + i, i);
      send('ETH', 10 + i, i);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    // A last update, then close before its turn ends: close publishes it.
    send('SOL', 7, 1);
    // Microtasks only: the host's loop takes the update, its turn (setImmediate) has not come.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    await host.close();
    const got: { asset: string; price: number }[] = [];
    const it = indexes[Symbol.asyncIterator]();
    for (;;) {
      const r = await Promise.race([it.next(), new Promise<undefined>((ok) => setTimeout(() => ok(undefined), 50))]);
      if (!r || r.done) break;
      got.push(JSON.parse(decoder.decode(r.value.data)));
    }
    const last = new Map(got.map((g) => [g.asset, g.price]));
    expect(last).toEqual(
      new Map([
        ['BTC', 200],
        ['ETH', 110],
        ['SOL', 7],
      ]),
    );
    // 200 updates of two assets, far fewer index messages (one per asset per turn).
    expect(got.length).toBeLessThan(20);
    ac.abort();
    await bus.close();
  });
});

describe('ownerOf', () => {
  it('moves only the assets of a member that leaves', () => {
    const assets = Array.from({ length: 200 }, (_, i) => `A${i}`);
    const before = ['w0', 'w1', 'w2', 'w3'];
    const after = ['w0', 'w1', 'w3'];
    for (const a of assets) {
      const was = ownerOf(a, before);
      if (was !== 'w2') expect(ownerOf(a, after)).toBe(was);
    }
    const counts = new Map<string, number>();
    for (const a of assets)
      counts.set(ownerOf(a, before) as string, (counts.get(ownerOf(a, before) as string) ?? 0) + 1);
    for (const n of counts.values()) expect(n).toBeGreaterThan(25);
  });
});
