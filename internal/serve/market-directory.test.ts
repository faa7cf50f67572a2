import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import { priceSubject } from '../bus/subject-names.js';
import { silentLogger } from '../observe/logger.js';
import type { StoredMarket } from '../sink/store.js';
import { createMarketDirectory, type MarketDirectory } from './market-directory.js';

const encoder = new TextEncoder();
const tick = () => new Promise((r) => setTimeout(r, 5));
const open: Array<{ bus: MemoryBus; directory: MarketDirectory }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.directory.close();
    await o.bus.close();
  }
});

function directory(stored: StoredMarket[], over: { idleMs?: number; maxMarkets?: number } = {}) {
  let now = 1_000_000;
  const bus = createMemoryBus();
  const forgotten: string[] = [];
  const d = createMarketDirectory({
    store: { markets: async () => stored },
    bus,
    logger: silentLogger(),
    refreshMs: 3_600_000,
    idleMs: over.idleMs ?? 60_000,
    maxMarkets: over.maxMarkets ?? 100,
    onForget: (reason) => forgotten.push(reason),
    clock: () => now,
  });
  open.push({ bus, directory: d });
  const price = (symbol: string, exchange = 'x') => {
    const m = { exchange, symbol, market: `${symbol}-USD` };
    bus.publish(priceSubject(m), encoder.encode(JSON.stringify({ ...m, price: '1' })));
  };
  const names = () => d.list().map((m) => m.symbol);
  return { d, price, names, forgotten, advance: (ms: number) => (now += ms) };
}

describe('market directory', () => {
  it('forgets a market seen only on the bus once it has been quiet for the idle time; stored ones stay', async () => {
    const { d, price, names, forgotten, advance } = directory([{ exchange: 'x', symbol: 'S', market: 'S-USD' }]);
    await d.start(new AbortController().signal);
    price('A');
    price('B');
    price('S');
    await tick();
    expect(names()).toEqual(['A', 'B', 'S']);
    advance(40_000);
    price('B');
    await tick();
    advance(30_000);
    await d.refresh();
    expect(names()).toEqual(['B', 'S']);
    advance(60_000);
    await d.refresh();
    expect(names()).toEqual(['S']);
    expect(d.list()[0]!.lastSeen).toBe(1_000_000);
    expect(forgotten).toEqual(['idle', 'idle']);
  });

  it('holds at most maxMarkets, forgetting the one seen longest ago, and ignores names that are not names', async () => {
    const { d, price, names, forgotten } = directory([], { maxMarkets: 3 });
    await d.start(new AbortController().signal);
    for (const s of ['A', 'B', 'C']) price(s);
    await tick();
    price('A');
    price('D');
    price('E');
    price('x'.repeat(65));
    price('N\u0000UL');
    await tick();
    expect(names()).toEqual(['A', 'D', 'E']);
    expect(forgotten).toEqual(['full', 'full']);
  });
});
