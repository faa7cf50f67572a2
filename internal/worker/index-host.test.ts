import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../bus/memory-bus.js';
import { priceSubject } from '../bus/subject-names.js';
import { silentLogger } from '../observe/logger.js';
import { createPgliteStore } from '../sink/pglite-store.js';
import { createIndexHost, ownerOf } from './index-host.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** For the tests of index values, where no alert is raised. */
const noStore = { commitIndex: async () => {}, loadIndexState: async () => null };

describe('IndexHost', () => {
  it('builds the BTC index from price updates of several venues over the bus', async () => {
    const bus = createMemoryBus();
    const ac = new AbortController();
    const host = createIndexHost({ bus, store: noStore, logger: silentLogger(), owns: (a) => a === 'BTC' });
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
    const host = createIndexHost({ bus, store: noStore, logger: silentLogger(), owns: () => true });
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

describe('IndexHost alerts', () => {
  let database: PGlite;
  beforeAll(async () => {
    database = await PGlite.create();
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  it('stores each divergence alert once, across a restart and repeated updates, then publishes it', async () => {
    const store = await createPgliteStore({ database, schema: 'index_host_alerts' });
    await store.migrate();
    const bus = createMemoryBus();
    const durable: string[] = [];
    const publishDurable = bus.publishDurable.bind(bus);
    bus.publishDurable = async (subject, data, opts) => {
      durable.push(opts?.msgId ?? '');
      return publishDurable(subject, data, opts);
    };
    const T = Date.UTC(2024, 0, 1);
    const send = (exchange: string, price: string, time: number) =>
      bus.publish(
        priceSubject({ market: 'BTC-USD', exchange, symbol: 'BTC-USD' }),
        encoder.encode(
          JSON.stringify({ exchange, symbol: 'BTC-USD', market: 'BTC-USD', price, volume: '5', time, openTime: T }),
        ),
      );
    const diverge = (t: number) => {
      send('binance', '100', t);
      send('coinbase', '100.1', t);
      send('kraken', '103', t + 1);
    };
    // The host handles updates in order: once the index of a last update is out, the ones before are stored.
    const run = async (feed: () => void) => {
      const ac = new AbortController();
      const host = createIndexHost({ bus, store, logger: silentLogger(), owns: () => true });
      await host.start(ac.signal);
      const indexes = bus.subscribe('tickmesh.index.>', { signal: ac.signal })[Symbol.asyncIterator]();
      feed();
      send('binance', '100', T + 100);
      for (;;) {
        const { value } = (await indexes.next()) as IteratorYieldResult<{ data: Uint8Array }>;
        if ((JSON.parse(decoder.decode(value.data)) as { time: number }).time === T + 100) break;
      }
      ac.abort();
      await host.close();
    };
    await run(() => diverge(T));
    const first = await store.alerts({ kind: 'divergence' });
    expect(first.map((a) => a.id)).toEqual([`divergence:BTC:kraken:BTC-USD:${T + 1}`]);
    expect(durable).toEqual([first[0]?.id]);
    expect(await store.loadIndexState('BTC')).toEqual({ asset: 'BTC', diverging: ['kraken:BTC-USD'] });

    // A restarted host: the divergence goes on, and the same updates come again.
    await run(() => {
      diverge(T + 10);
      diverge(T);
    });
    expect((await store.alerts({ kind: 'divergence' })).map((a) => a.id)).toEqual([first[0]?.id]);

    // The venue comes back, then diverges again: a second episode, a second alert.
    await run(() => {
      send('kraken', '100.05', T + 20);
      diverge(T + 30);
    });
    expect((await store.alerts({ kind: 'divergence' })).map((a) => a.id)).toEqual([
      first[0]?.id,
      `divergence:BTC:kraken:BTC-USD:${T + 31}`,
    ]);
    await bus.close();
    await store.close();
  }, 60_000);
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
