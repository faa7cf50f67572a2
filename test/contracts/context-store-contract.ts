import { describe, expect, it } from 'vitest';
import type { NewsRecord, ReferenceRecord, SentimentRecord } from '../../internal/market/context.js';
import type { Store } from '../../internal/sink/store.js';
import { alert } from './store-contract.js';

/**
 * The context part of the Store contract (internal/sink/context-store.ts), run by
 * defineStoreContract against every adapter: `open` gives a fresh, migrated store.
 */
const T0 = Date.UTC(2026, 11, 7, 2, 0);

export function reference(over: Partial<ReferenceRecord> = {}): ReferenceRecord {
  return {
    source: 'coingecko',
    asset: 'BTC',
    sourceId: 'bitcoin',
    vsCurrency: 'usd',
    price: 97_123.45,
    marketCap: 1_923_456_789_012,
    rank: 1,
    volume24h: 41_234_567_890.5,
    change24hPct: -1.234567,
    circulatingSupply: 19_800_000,
    totalSupply: 21_000_000,
    maxSupply: null,
    time: T0,
    receiveTime: T0 + 1_500,
    ...over,
  };
}

export function sentimentValue(over: Partial<SentimentRecord> = {}): SentimentRecord {
  return {
    source: 'fear-greed',
    index: 'crypto-fear-greed',
    value: 23,
    classification: 'Extreme Fear',
    time: Date.UTC(2026, 11, 7),
    receiveTime: T0,
    ...over,
  };
}

export function headline(over: Partial<NewsRecord> = {}): NewsRecord {
  return {
    source: 'coindesk',
    guid: 'https://www.coindesk.com/markets/2026/12/07/bitcoin-jumps',
    link: 'https://www.coindesk.com/markets/2026/12/07/bitcoin-jumps',
    title: 'Bitcoin jumps as ETF inflows return',
    summary: 'BTC rose 4% in an hour; “ETH” followed.',
    published: T0 - 60_000,
    receiveTime: T0,
    assets: ['BTC', 'ETH'],
    sentiment: { score: 2, comparative: 0.2857142857142857 },
    ...over,
  };
}

const commit = (over: Partial<Parameters<Store['commitContext']>[0]> = {}) => ({
  topic: 'tickmesh.news.v1',
  partition: 0,
  nextOffset: 1n,
  references: [],
  sentiment: [],
  news: [],
  ...over,
});

export function defineContextStoreContract(open: () => Promise<Store>): void {
  describe('context tables', () => {
    it('stores each record once with its partition offset, and says which were new', async () => {
      const store = await open();
      expect(await store.contextOffset('tickmesh.news.v1', 0)).toBeNull();
      const a = headline();
      const b = headline({ guid: 'b', title: 'Ether ETF filing', assets: ['ETH'], published: null });
      const first = await store.commitContext(commit({ nextOffset: 2n, news: [a, b, a] }));
      expect(first.news).toEqual([a, b]);
      // A replay of the same records after a crash: nothing new, the offset moves on.
      const again = await store.commitContext(commit({ nextOffset: 3n, news: [b, a] }));
      expect(again.news).toEqual([]);
      expect(await store.contextOffset('tickmesh.news.v1', 0)).toBe(3n);
      expect(await store.news({})).toEqual([a, b]);
      expect(await store.news({ asset: 'BTC' })).toEqual([a]);
      expect(await store.news({ asset: 'ETH', from: 0 })).toEqual([a, b]);
      expect(await store.news({ asset: 'SOL' })).toEqual([]);
    });

    it('keeps reference snapshots by asset, time and source; the latest per asset', async () => {
      const store = await open();
      const r1 = reference();
      const r2 = reference({ time: T0 + 60_000, price: 97_500.125, rank: null, marketCap: null });
      const e1 = reference({ asset: 'ETH', sourceId: 'ethereum', price: 3_456.78 });
      const done = await store.commitContext(commit({ topic: 'ref', references: [r1, r2, e1, r1] }));
      expect(done.references).toEqual([r1, r2, e1]);
      expect((await store.commitContext(commit({ topic: 'ref', references: [r2] }))).references).toEqual([]);
      expect(await store.latestReferences()).toEqual([r2, e1]);
      expect(await store.references({ asset: 'BTC' })).toEqual([r1, r2]);
      expect(await store.references({ asset: 'BTC', from: T0 + 1 })).toEqual([r2]);
      expect(await store.references({ asset: 'BTC', limit: 1 })).toEqual([r2]);
    });

    it('keeps sentiment by index, time and source, and pages by time', async () => {
      const store = await open();
      const days = Array.from({ length: 5 }, (_, i) =>
        sentimentValue({ time: Date.UTC(2026, 11, 1 + i), value: 20 + i, classification: 'Fear' }),
      );
      await store.commitContext(commit({ topic: 'sent', sentiment: days }));
      const q = { index: 'crypto-fear-greed', from: 0, limit: 2 };
      expect(await store.sentiment(q)).toEqual(days.slice(0, 2));
      expect(await store.sentiment({ ...q, from: (days[1] as SentimentRecord).time + 1 })).toEqual(days.slice(2, 4));
      expect(await store.sentiment({ index: 'crypto-fear-greed', limit: 2 })).toEqual(days.slice(3));
      expect(await store.sentiment({ index: 'other' })).toEqual([]);
    });

    it('a full page also holds the other headlines of its last time, so paging skips none', async () => {
      const store = await open();
      const same = [0, 1, 2].map((i) => headline({ guid: `g${i}`, title: `BTC ${i}`, published: T0 }));
      const later = headline({ guid: 'later', published: T0 + 1_000 });
      await store.commitContext(commit({ news: [later, ...same] }));
      const page = await store.news({ from: 0, limit: 2 });
      expect(page.map((n) => n.guid)).toEqual(['g0', 'g1', 'g2']);
      expect((await store.news({ from: T0 + 1, limit: 2 })).map((n) => n.guid)).toEqual(['later']);
    });

    it('puts alerts made outside a partition commit once, by id', async () => {
      const store = await open();
      const a = alert({ id: 'x:news', kind: 'news_spike' });
      expect(await store.putAlerts([a, a])).toEqual([a]);
      expect(await store.putAlerts([a])).toEqual([]);
      expect(await store.alerts()).toEqual([a]);
    });
  });
}
