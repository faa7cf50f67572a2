import { beforeAll, describe, expect, it } from 'vitest';
import { referenceSample } from '../../test/support/context-stand-in.js';
import { rssSource } from '../ingest/context/rss.js';
import type { Alert } from '../market/alert.js';
import type { NewsRecord } from '../market/context.js';
import { AssetContext } from './asset-context.js';

/** The headlines of the real CoinDesk and Cointelegraph samples, read by the RSS connector (no HTTP). */
async function headlines(): Promise<NewsRecord[]> {
  const out: NewsRecord[] = [];
  for (const [name, file] of [
    ['coindesk', 'zotochev_trade-news_coindesk.xml'],
    ['cointelegraph', 'maddymedia_Quant-dashboard_cointelegraph_rss_EXCERPT-first4items.xml'],
  ] as const) {
    const body = referenceSample('crypto-news-rss', file);
    const source = rssSource({ name, url: 'http://stand-in.invalid/rss' });
    const { items } = await source.poll({
      http: { get: async () => body },
      now: Date.parse('2026-10-01T00:00:00Z'),
      firstStart: true,
      signal: AbortSignal.timeout(1_000),
    });
    for (const i of items) out.push(JSON.parse(new TextDecoder().decode(i.record.value)) as NewsRecord);
  }
  return out;
}

function spike(market: string, time: number, kind: Alert['kind'] = 'price_spike'): Alert {
  return {
    id: `binance:${market.replace('-', '')}:${kind}:1m:${time - 60_000}`,
    exchange: 'binance',
    symbol: market.replace('-', ''),
    market,
    kind,
    severity: 'warning',
    time,
    interval: '1m',
    message: `${market} 1m close moved up 1.2% (z 5.1)`,
    evidence: { zScore: 5.1 },
  };
}

describe('asset context: the news-spike alert', () => {
  let news: NewsRecord[];
  let btcHeadline: NewsRecord;
  beforeAll(async () => {
    news = await headlines();
    btcHeadline = news.find((n) => n.assets.includes('BTC')) as NewsRecord;
  });

  it('tags the real headlines with the assets they name', () => {
    const tags = Object.fromEntries(news.map((n) => [n.title, n.assets]));
    expect(tags['Tether confirms minimal EQIBank exposure following $89M US asset seizure']).toEqual(['USDT']);
    expect(tags['Tokenization is moving faster than Washington']).toEqual([]);
    expect(tags['Brazil’s Petrobras uses Cardano to track sustainable aviation fuel, renewable diesel']).toContain(
      'ADA',
    );
    expect(btcHeadline.published).not.toBeNull();
  });

  it('joins a spike on a BTC market with a BTC headline of the window, and carries the headline', () => {
    const ctx = new AssetContext();
    for (const n of news) ctx.onNews(n);
    const t = (btcHeadline.published as number) + 2 * 60_000;
    const a = ctx.onAlert(spike('BTC-USDT', t));
    expect(a).toMatchObject({
      id: `${spike('BTC-USDT', t).id}:news`,
      kind: 'news_spike',
      market: 'BTC-USDT',
      time: t,
      evidence: { headline: btcHeadline.title, headlineSource: btcHeadline.source, secondsFromHeadline: 120 },
    });
    expect(ctx.onAlert(spike('BTC-USDT', t, 'volume_spike'))?.kind).toBe('news_spike');
  });

  it('says nothing for another asset, a headline outside the window, or another kind of alert', () => {
    const ctx = new AssetContext({ beforeMs: 30 * 60_000, afterMs: 5 * 60_000, maxHeadlines: 10, maxSpikes: 10 });
    for (const n of news) ctx.onNews(n);
    const p = btcHeadline.published as number;
    expect(ctx.onAlert(spike('DOT-USDT', p))).toBeUndefined();
    expect(ctx.onAlert(spike('BTC-USDT', p + 31 * 60_000))).toBeUndefined();
    expect(ctx.onAlert(spike('BTC-USDT', p - 6 * 60_000))).toBeUndefined();
    expect(ctx.onAlert(spike('BTC-USDT', p - 4 * 60_000))?.kind).toBe('news_spike');
    expect(ctx.onAlert({ ...spike('BTC-USDT', p), kind: 'whale_trade' })).toBeUndefined();
  });

  it('joins a spike with a headline that comes after it, once, whichever comes first', () => {
    const ctx = new AssetContext();
    const p = btcHeadline.published as number;
    const early = spike('BTC-USDT', p + 60_000);
    expect(ctx.onAlert(early)).toBeUndefined();
    expect(ctx.onAlert(spike('BTC-USDT', p + 40 * 60_000))).toBeUndefined();
    const made = ctx.onNews(btcHeadline);
    expect(made.map((a) => a.id)).toEqual([`${early.id}:news`]);
    expect(made[0]?.evidence.headline).toBe(btcHeadline.title);
    // Neither the headline again, nor the spike again, nor another headline of its window makes a second.
    expect(ctx.onNews(btcHeadline)).toEqual([]);
    expect(ctx.onAlert(early)).toBeUndefined();
    expect(ctx.onNews({ ...btcHeadline, guid: 'another', published: p + 30_000 })).toEqual([]);
  });

  it('keeps the newest reference data and sentiment, and each headline once', () => {
    const ctx = new AssetContext();
    for (const n of [...news, ...news]) ctx.onNews(n);
    expect(ctx.view('BTC').headlines.filter((h) => h.guid === btcHeadline.guid)).toHaveLength(1);
    const ref = {
      source: 'coingecko',
      asset: 'BTC',
      sourceId: 'bitcoin',
      vsCurrency: 'usd',
      price: 2,
      marketCap: null,
      rank: 1,
      volume24h: null,
      change24hPct: null,
      circulatingSupply: null,
      totalSupply: null,
      maxSupply: null,
      time: 2,
      receiveTime: 2,
    };
    ctx.onReference(ref);
    ctx.onReference({ ...ref, price: 1, time: 1 });
    expect(ctx.view('BTC').reference?.price).toBe(2);
    ctx.onSentiment({
      source: 'fear-greed',
      index: 'crypto-fear-greed',
      value: 71,
      classification: 'Greed',
      time: 5,
      receiveTime: 5,
    });
    ctx.onSentiment({
      source: 'fear-greed',
      index: 'crypto-fear-greed',
      value: 10,
      classification: 'Extreme Fear',
      time: 4,
      receiveTime: 5,
    });
    expect(ctx.view('ETH').sentiment?.value).toBe(71);
  });
});
