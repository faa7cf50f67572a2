import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContextStandIn, recordedFixture, referenceSample } from '../../../test/support/context-stand-in.js';
import type { LogProducer, OutgoingRecord } from '../../log/log.js';
import { createMemoryLog } from '../../log/memory-log.js';
import { silentLogger } from '../../observe/logger.js';
import { coingeckoSource } from './coingecko.js';
import { createContextIngestor } from './context-ingestor.js';
import { fearGreedSource } from './fear-greed.js';
import {
  type ContextReject,
  DEFAULT_CONTEXT_TOPICS,
  type NewsRecord,
  type ReferenceRecord,
  type SentimentRecord,
} from './records.js';
import { rssSource } from './rss.js';
import { readSeenKeys, SeenKeys } from './seen-keys.js';
import type { ContextSource } from './source.js';

const T = DEFAULT_CONTEXT_TOPICS;
const MARKETS_30 = referenceSample('coingecko-coins-markets', 'rozanovigor_monkey_coins_markets_2025-03-04.json');
const MARKETS_5 = referenceSample('coingecko-coins-markets', 'gusgoros_coins_markets_2023-01-02.json');
const FNG_HISTORY = referenceSample('altme-fng', 'fanyilun0_CryptoSentinel_fng_history.json');
const FNG_LATEST = referenceSample('altme-fng', 'lutogin_fear-and-greed-bot_alternative_fng_2026-09-25.json');
const COINDESK = referenceSample('crypto-news-rss', 'zotochev_trade-news_coindesk.xml');
const COINDESK_FULL = recordedFixture('coindesk-rss-2026-09-30', 'coindesk_rss.xml');
const COINTELEGRAPH = referenceSample(
  'crypto-news-rss',
  'maddymedia_Quant-dashboard_cointelegraph_rss_EXCERPT-first4items.xml',
);

/** The memory log, with every send also kept in order for the assertions. */
class Captured {
  readonly log = createMemoryLog();
  readonly sent: { topic: string; record: OutgoingRecord }[] = [];
  async init(): Promise<this> {
    const admin = this.log.admin();
    for (const topic of Object.values(T)) await admin.ensureTopic(topic, 2);
    return this;
  }
  producer(): LogProducer {
    const inner = this.log.producer();
    return {
      send: async (topic, records) => {
        for (const record of records) this.sent.push({ topic, record });
        await inner.send(topic, records);
      },
      close: () => inner.close(),
    };
  }
  values<V>(topic: string): V[] {
    return this.sent.filter((s) => s.topic === topic).map((s) => JSON.parse(new TextDecoder().decode(s.record.value)));
  }
  /** What a restarted process finds in the topics (readSeenKeys over each). */
  async seen(): Promise<SeenKeys> {
    const seen = new SeenKeys();
    for (const topic of [T.reference, T.sentiment, T.news]) {
      const ends = await this.log.admin().endOffsets(topic);
      await readSeenKeys({
        consumer: this.log.consumer(topic),
        ends,
        tail: 10_000,
        into: seen,
        signal: AbortSignal.timeout(5_000),
      });
    }
    return seen;
  }
}

describe('context connectors against their stand-ins', () => {
  let standIn: ContextStandIn;
  let out: Captured;
  let registry: Registry;
  const running: { close(): Promise<void> }[] = [];

  beforeEach(async () => {
    standIn = await new ContextStandIn().start();
    out = await new Captured().init();
    registry = new Registry();
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await r.close();
    await standIn.close();
  });

  /** A new process: its own registry. */
  function run(sources: ContextSource[], seen?: SeenKeys) {
    registry = new Registry();
    const ingestor = createContextIngestor({
      sources,
      producer: out.producer(),
      topics: T,
      logger: silentLogger(),
      registry,
      ...(seen ? { seen } : {}),
      retry: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 3 },
      maxBytes: 1024 * 1024,
    });
    ingestor.start(AbortSignal.timeout(60_000));
    running.push(ingestor);
    return ingestor;
  }

  async function metric(name: string, labels: Record<string, string>): Promise<number> {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
    return Number(v?.value ?? 0);
  }

  it('CoinGecko: pages /coins/markets, maps every known coin, counts the rest, sends the key', async () => {
    standIn.script('/api/v3/coins/markets', { body: MARKETS_30 }, { body: MARKETS_5 });
    standIn.script('/api/v3/simple/price', {
      body: JSON.stringify({ bitcoin: { usd: 87000.5, usd_market_cap: 1.7e12, last_updated_at: 1741099500 } }),
    });
    const source = coingeckoSource({
      baseUrl: `${standIn.url}/api/v3`,
      apiKey: 'demo-key',
      perPage: 30,
      pages: 3,
      marketsEvery: 2,
      intervalMs: 30,
      requestsPerMinute: 6_000,
    });
    run([source]);
    // The hit is seen before its record is produced; wait for the record itself.
    await expect
      .poll(() => out.values<ReferenceRecord>(T.reference).some((r) => r.price === 87000.5), {
        timeout: 5_000,
        interval: 10,
      })
      .toBe(true);
    const pages = standIn.hits('/api/v3/coins/markets');
    // Page 1 was full (30 coins), page 2 was not (5): no page 3.
    expect(pages.map((r) => new URL(r.url, standIn.url).searchParams.get('page'))).toEqual(['1', '2']);
    expect(pages[0]?.headers['x-cg-demo-api-key']).toBe('demo-key');
    const refs = out.values<ReferenceRecord>(T.reference);
    const btc = refs.find((r) => r.asset === 'BTC' && r.rank === 1 && r.price > 50_000);
    const sample = (JSON.parse(MARKETS_30) as Record<string, unknown>[])[0] as Record<string, number | string>;
    expect(btc).toMatchObject({
      source: 'coingecko',
      sourceId: 'bitcoin',
      vsCurrency: 'usd',
      price: sample.current_price,
      marketCap: sample.market_cap,
      volume24h: sample.total_volume,
      circulatingSupply: sample.circulating_supply,
      time: Date.parse(sample.last_updated as string),
    });
    // 20 of the 30 coins are tickmesh assets; the other 10 (staked-ether, pi-network, ...) are counted.
    const page1 = new Set(refs.filter((r) => r.time > Date.parse('2024-01-01')).map((r) => r.asset));
    expect(page1.size).toBe(20);
    expect(await metric('tickmesh_context_unmapped_total', { source: 'coingecko' })).toBe(10);
    const price = refs.find((r) => r.price === 87000.5);
    expect(price).toMatchObject({ asset: 'BTC', marketCap: 1.7e12, rank: null, time: 1741099500_000 });
  });

  it('CoinGecko: waits out a 429 for its Retry-After and never exceeds the request budget', async () => {
    standIn.script(
      '/api/v3/coins/markets',
      { status: 429, body: '{"status":{"error_code":429}}', headers: { 'retry-after': '1' } },
      { body: MARKETS_5 },
    );
    standIn.script('/api/v3/simple/price', { body: '{"bitcoin":{"usd":1,"last_updated_at":1741099500}}' });
    // 120 a minute: one request every 500 ms at most, however often the source would poll.
    const source = coingeckoSource({
      baseUrl: `${standIn.url}/api/v3`,
      perPage: 100,
      marketsEvery: 1_000,
      intervalMs: 10,
      requestsPerMinute: 120,
    });
    const started = Date.now();
    run([source]);
    await expect.poll(() => standIn.requests.length >= 4, { timeout: 10_000, interval: 10 }).toBe(true);
    const at = standIn.requests.map((r) => r.at);
    // The retry after the 429 came no sooner than its Retry-After.
    expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(990);
    for (let i = 1; i < at.length; i++) expect((at[i] as number) - (at[i - 1] as number)).toBeGreaterThanOrEqual(480);
    const elapsed = Date.now() - started;
    expect(standIn.requests.length).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 500));
    expect(await metric('tickmesh_context_requests_total', { source: 'coingecko', status: '429' })).toBe(1);
    expect(out.values<ReferenceRecord>(T.reference).filter((r) => r.sourceId === 'bitcoin')).not.toHaveLength(0);
  });

  it('CoinGecko: bad payloads are rejected with their reasons, and the good coins still go through', async () => {
    const coins = JSON.parse(MARKETS_5) as Record<string, unknown>[];
    const broken = [
      { ...coins[0], current_price: 'abc' },
      { ...coins[1], id: undefined },
      { ...coins[2], last_updated: 'yesterday' },
      ...coins.slice(3),
    ];
    standIn.script(
      '/api/v3/coins/markets',
      { body: '<html>rate limited</html>' },
      { body: '{"error":"coin not found"}' },
      { body: JSON.stringify(broken) },
    );
    run([
      coingeckoSource({ baseUrl: `${standIn.url}/api/v3`, marketsEvery: 1, intervalMs: 20, requestsPerMinute: 6_000 }),
    ]);
    await expect
      .poll(() => out.values<ContextReject>(T.rejects).length >= 5, { timeout: 5_000, interval: 10 })
      .toBe(true);
    const reasons = out.values<ContextReject>(T.rejects).map((r) => r.reason);
    expect(reasons.slice(0, 5)).toEqual(['bad-json', 'bad-shape', 'bad-value', 'missing-field', 'bad-time']);
    expect(out.values<ReferenceRecord>(T.reference).map((r) => r.asset)).toEqual(['USDC', 'BNB']);
    expect(await metric('tickmesh_context_rejects_total', { source: 'coingecko', reason: 'bad-json' })).toBe(1);
  });

  it('a 404 is an http-status reject, an answer over the size limit a too-large one; neither is retried', async () => {
    standIn.script('/gone', { status: 404, body: 'no such feed' });
    standIn.script('/huge', {
      body: `<rss><channel>${'<item><title>x</title></item>'.repeat(40_000)}</channel></rss>`,
    });
    run([
      rssSource({ name: 'gone', url: `${standIn.url}/gone`, intervalMs: 5_000, requestsPerMinute: 6_000 }),
      rssSource({ name: 'huge', url: `${standIn.url}/huge`, intervalMs: 5_000, requestsPerMinute: 6_000 }),
    ]);
    await expect
      .poll(() => out.values<ContextReject>(T.rejects).length >= 2, { timeout: 5_000, interval: 10 })
      .toBe(true);
    const rejects = out.values<ContextReject>(T.rejects);
    expect(Object.fromEntries(rejects.map((r) => [r.source, r.reason]))).toEqual({
      gone: 'http-status',
      huge: 'too-large',
    });
    expect(standIn.hits('/gone')).toHaveLength(1);
    expect(standIn.hits('/huge')).toHaveLength(1);
    expect(out.values<NewsRecord>(T.news)).toHaveLength(0);
  });

  it('Fear & Greed: the whole history on a first start, then the latest only; nothing again after a restart', async () => {
    standIn.script('/fng/', { body: FNG_HISTORY }, { body: FNG_LATEST });
    run([fearGreedSource({ baseUrl: standIn.url, intervalMs: 20, requestsPerMinute: 6_000 })]);
    await expect.poll(() => standIn.hits('/fng/').length >= 3, { timeout: 5_000, interval: 10 }).toBe(true);
    const urls = standIn.hits('/fng/').map((r) => new URL(r.url, standIn.url).searchParams.get('limit'));
    expect(urls.slice(0, 3)).toEqual(['0', '2', '2']);
    const history = JSON.parse(FNG_HISTORY).data as unknown[];
    const values = out.values<SentimentRecord>(T.sentiment);
    expect(values).toHaveLength(history.length + 2);
    // Oldest first; 2018-02-01 is the first day of the index.
    expect(values[0]).toMatchObject({ time: Date.parse('2018-02-01'), index: 'crypto-fear-greed' });
    expect(values.at(-1)).toMatchObject({ value: 71, classification: 'Greed', time: 1790294400_000 });
    for (const r of running.splice(0)) await r.close();

    const seen = await out.seen();
    const before = out.sent.length;
    standIn.script('/fng/', { body: FNG_HISTORY });
    run([fearGreedSource({ baseUrl: standIn.url, intervalMs: 20, requestsPerMinute: 6_000 })], seen);
    await expect.poll(() => standIn.hits('/fng/').length >= 5, { timeout: 5_000, interval: 10 }).toBe(true);
    const restarted = standIn.hits('/fng/').slice(-2);
    expect(restarted.map((r) => new URL(r.url, standIn.url).searchParams.get('limit'))).toEqual(['2', '2']);
    expect(out.sent.length).toBe(before);
    expect(await metric('tickmesh_context_repeats_total', { source: 'fear-greed' })).toBeGreaterThan(0);
  });

  it('RSS: headlines tagged and scored, repeats dropped across a restart, malformed XML rejected', async () => {
    standIn.script('/coindesk', { body: COINDESK });
    standIn.script(
      '/cointelegraph',
      { body: COINTELEGRAPH.slice(0, 3_000) },
      { body: COINTELEGRAPH },
      { body: COINTELEGRAPH },
    );
    const feeds = () => [
      rssSource({ name: 'coindesk', url: `${standIn.url}/coindesk`, intervalMs: 30, requestsPerMinute: 6_000 }),
      rssSource({
        name: 'cointelegraph',
        url: `${standIn.url}/cointelegraph`,
        intervalMs: 30,
        requestsPerMinute: 6_000,
      }),
    ];
    run(feeds());
    await expect
      .poll(() => standIn.hits('/cointelegraph').length >= 4 && standIn.hits('/coindesk').length >= 3, {
        timeout: 5_000,
        interval: 10,
      })
      .toBe(true);
    const news = out.values<NewsRecord>(T.news);
    expect(news.filter((n) => n.source === 'coindesk')).toHaveLength(3);
    expect(news.filter((n) => n.source === 'cointelegraph')).toHaveLength(4);
    expect(new Set(news.map((n) => n.guid)).size).toBe(7);
    for (const n of news) {
      expect(n.title.length).toBeGreaterThan(10);
      expect(n.published).toBeGreaterThan(Date.parse('2026-01-01'));
      expect(typeof n.sentiment.score).toBe('number');
    }
    expect(news.some((n) => n.assets.includes('BTC'))).toBe(true);
    const rejects = out.values<ContextReject>(T.rejects);
    expect(rejects.map((r) => [r.source, r.reason])).toEqual([['cointelegraph', 'bad-xml']]);
    for (const r of running.splice(0)) await r.close();

    const seen = await out.seen();
    const before = out.values<NewsRecord>(T.news).length;
    run(feeds(), seen);
    const hits = standIn.requests.length;
    await expect.poll(() => standIn.requests.length >= hits + 4, { timeout: 5_000, interval: 10 }).toBe(true);
    expect(out.values<NewsRecord>(T.news)).toHaveLength(before);
  });

  it('RSS: the whole recorded CoinDesk feed: all 25 items mapped, none rejected, odd items included', async () => {
    standIn.script('/coindesk', { body: COINDESK_FULL });
    run([rssSource({ name: 'coindesk', url: `${standIn.url}/coindesk`, intervalMs: 30, requestsPerMinute: 6_000 })]);
    // The records themselves, not the stand-in's request count: a request is seen before its answer is appended.
    await expect.poll(() => out.values<NewsRecord>(T.news).length, { timeout: 5_000, interval: 10 }).toBe(25);
    await expect.poll(() => standIn.hits('/coindesk').length >= 3, { timeout: 5_000, interval: 10 }).toBe(true);
    const news = out.values<NewsRecord>(T.news);
    expect(COINDESK_FULL.match(/<item>/g)).toHaveLength(25);
    expect(news).toHaveLength(25);
    expect(new Set(news.map((n) => n.guid)).size).toBe(25);
    expect(out.values<ContextReject>(T.rejects)).toEqual([]);
    const byGuid = (guid: string) => news.find((n) => n.guid === guid);
    // No media:content, five dc:creator.
    expect(byGuid('852d952c-97c0-4ced-8aa7-3f6d6fefef14')).toMatchObject({
      title: 'Live updates: Bitcoin returns to $84,000, giving up early gains',
      published: Date.parse('2026-09-30T10:18:34Z'),
      assets: ['BTC'],
    });
    // An empty <description/>: no summary.
    expect(byGuid('5d1b04d8-4083-4bd6-9b55-6321b0767b06')).toMatchObject({
      title: 'Crypto Long & Short: What will the AI agents run on?',
      summary: null,
    });
    // 11 headlines name a tickmesh asset (Tether by name in the Open USD summary, Cardano, XRP, Ethereum).
    const tagged = news.flatMap((n) => n.assets).sort();
    expect(tagged).toEqual(['ADA', 'BTC', 'BTC', 'BTC', 'BTC', 'BTC', 'BTC', 'BTC', 'ETH', 'USDT', 'XRP']);
  });

  it('RSS: a feed that goes silent turns stale (gauge and warning) and fresh again with a new headline', async () => {
    standIn.script('/coindesk', { body: COINDESK });
    run([
      rssSource({
        name: 'coindesk',
        url: `${standIn.url}/coindesk`,
        intervalMs: 20,
        staleAfterMs: 300,
        requestsPerMinute: 6_000,
      }),
    ]);
    await expect.poll(() => out.values<NewsRecord>(T.news).length === 3, { timeout: 5_000, interval: 10 }).toBe(true);
    expect(await metric('tickmesh_context_stale', { source: 'coindesk' })).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(await metric('tickmesh_context_stale', { source: 'coindesk' })).toBe(1);
    standIn.script('/coindesk', { body: COINTELEGRAPH });
    await expect.poll(() => out.values<NewsRecord>(T.news).length === 7, { timeout: 5_000, interval: 10 }).toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    expect(await metric('tickmesh_context_stale', { source: 'coindesk' })).toBe(0);
  });
});
