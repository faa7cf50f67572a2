import { describe, expect, it } from 'vitest';
import type { NewsRecord, ReferenceRecord, SentimentRecord } from '../../internal/market/context.js';
import type { Cache } from '../../internal/sink/cache.js';
import type { Store } from '../../internal/sink/store.js';
import { headline, reference, sentimentValue } from '../contracts/context-store-contract.js';

/** What a suite run needs: a fresh, migrated store and an API on it, answering `get` (path → status, body). */
export interface ContextRoutesSubject {
  readonly store: Store;
  readonly cache: Pick<Cache, 'putReferences'>;
  get(path: string): Promise<{ status: number; body: unknown }>;
}

const T0 = Date.UTC(2026, 11, 1);

/**
 * The context routes over HTTP (docs/API.md), run in the unit project on PGlite with inject()
 * and in the integration project on PostgreSQL and Redis over a real port.
 */
export function defineContextRoutesSuite(name: string, make: () => Promise<ContextRoutesSubject>): void {
  describe(`context routes: ${name}`, () => {
    it('pages headlines, reference data and sentiment by time, with the asked shapes', async () => {
      const s = await make();
      const news: NewsRecord[] = Array.from({ length: 5 }, (_, i) =>
        headline({
          guid: `n${i}`,
          title: `headline ${i}`,
          assets: i % 2 === 0 ? ['BTC'] : ['ETH'],
          published: T0 + i * 60_000,
        }),
      );
      const refs: ReferenceRecord[] = [0, 1, 2].map((i) => reference({ time: T0 + i * 60_000, price: 90_000 + i }));
      const eth = reference({ asset: 'ETH', sourceId: 'ethereum', price: 3_000.5 });
      const days: SentimentRecord[] = [0, 1, 2].map((i) =>
        sentimentValue({ time: T0 + i * 86_400_000, value: 40 + i, classification: 'Fear' }),
      );
      await s.store.commitContext({
        topic: 'news',
        partition: 0,
        nextOffset: 5n,
        references: [...refs, eth],
        sentiment: days,
        news,
      });

      const page1 = await s.get(`/api/v1/news?asset=btc&from=${T0}&limit=2`);
      expect(page1.status).toBe(200);
      expect(page1.body).toEqual({ asset: 'BTC', news: [news[0], news[2]], next: T0 + 2 * 60_000 + 1 });
      const page2 = await s.get(`/api/v1/news?asset=BTC&from=${T0 + 2 * 60_000 + 1}&limit=2`);
      expect(page2.body).toEqual({ asset: 'BTC', news: [news[4]], next: null });
      expect((await s.get('/api/v1/news?limit=2')).body).toEqual({ asset: null, news: news.slice(3), next: null });

      expect((await s.get(`/api/v1/assets?asset=BTC&from=${T0 + 1}`)).body).toEqual({
        asset: 'BTC',
        assets: refs.slice(1),
        next: null,
      });
      expect((await s.get('/api/v1/assets?asset=BTC&limit=1')).body).toEqual({
        asset: 'BTC',
        assets: [refs[2]],
        next: null,
      });
      // From the store (nothing cached), then from the cache once the recorder cached them.
      expect((await s.get('/api/v1/assets/latest')).body).toEqual({ assets: [refs[2], eth] });
      await s.cache.putReferences([refs[2] as ReferenceRecord, eth]);
      expect((await s.get('/api/v1/assets/latest')).body).toEqual({ assets: [refs[2], eth] });

      expect((await s.get(`/api/v1/sentiment?index=fear-greed&from=${T0}&limit=2`)).body).toEqual({
        index: 'fear-greed',
        sentiment: days.slice(0, 2),
        next: T0 + 86_400_000 + 1,
      });
      expect((await s.get('/api/v1/sentiment')).body).toEqual({ index: 'fear-greed', sentiment: days, next: null });
    });

    it('refuses bad queries with a 400 naming the parameter', async () => {
      const s = await make();
      for (const path of [
        '/api/v1/assets',
        '/api/v1/assets?asset=B%00TC',
        '/api/v1/news?asset=BTC&from=2026-02-30',
        '/api/v1/news?from=2&to=1',
        '/api/v1/news?limit=0',
        '/api/v1/sentiment?index=Fear%20Greed',
        '/api/v1/sentiment?idx=fear-greed',
      ]) {
        const r = await s.get(path);
        expect([path, r.status]).toEqual([path, 400]);
      }
    });
  });
}
