import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/memory-bus.js';
import { priceSubject } from '../bus/subjects.js';
import { silentLogger } from '../observe/logger.js';
import { IndexHost, ownerOf } from './index-host.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('IndexHost', () => {
  it('builds the BTC index from price updates of several venues over the bus', async () => {
    const bus = new MemoryBus();
    const ac = new AbortController();
    const host = new IndexHost({ bus, logger: silentLogger(), owns: (a) => a === 'BTC' });
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
    const seen: { asset: string; price: number }[] = [];
    for await (const m of indexes) {
      seen.push(JSON.parse(decoder.decode(m.data)));
      if (seen.length === 3) break;
    }
    expect(seen.map((s) => s.asset)).toEqual(['BTC', 'BTC', 'BTC']);
    expect(seen[2]?.price).toBe(101);
    ac.abort();
    await host.close();
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
