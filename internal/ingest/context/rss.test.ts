import { describe, expect, it } from 'vitest';
import type { NewsRecord } from './records.js';
import { rssSource } from './rss.js';

async function read(body: string) {
  const source = rssSource({ name: 'feed', url: 'http://stand-in.invalid/feed' });
  const r = await source.poll({
    http: { get: async () => body },
    now: 1_000,
    firstStart: true,
    signal: AbortSignal.timeout(1_000),
  });
  return {
    news: r.items.map((i) => JSON.parse(new TextDecoder().decode(i.record.value)) as NewsRecord),
    keys: r.items.map((i) => i.dedupeKey),
    rejects: r.rejects,
  };
}

// Feed shapes the real samples do not show (Atom; items without GUID, date or title), written
// here to the RSS 2.0 and RFC 4287 element names.
describe('RSS and Atom reading', () => {
  it('reads an Atom feed: id as guid, the alternate link, published or updated, HTML-free summary', async () => {
    const { news, keys } = await read(`<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example</title>
  <entry>
    <title type="html">Ether &amp; Solana rally on great news</title>
    <link rel="self" href="https://example.invalid/self/1"/>
    <link rel="alternate" href="https://example.invalid/posts/1"/>
    <id>urn:uuid:1</id>
    <updated>2026-09-30T10:00:00Z</updated>
    <summary type="html">&lt;p&gt;ETH up, &lt;b&gt;SOL&lt;/b&gt; too.&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title>Quiet day</title>
    <link href="https://example.invalid/posts/2"/>
    <id>urn:uuid:2</id>
    <published>2026-09-30T09:00:00Z</published>
  </entry>
</feed>`);
    expect(news.map((n) => [n.guid, n.link, n.published, n.assets])).toEqual([
      ['urn:uuid:2', 'https://example.invalid/posts/2', Date.parse('2026-09-30T09:00:00Z'), []],
      ['urn:uuid:1', 'https://example.invalid/posts/1', Date.parse('2026-09-30T10:00:00Z'), ['ETH', 'SOL']],
    ]);
    expect(news[1]?.title).toBe('Ether & Solana rally on great news');
    expect(news[1]?.summary).toBe('ETH up, SOL too.');
    expect(news[1]?.sentiment.score).toBeGreaterThan(0);
    expect(keys).toEqual(['urn:uuid:2', 'urn:uuid:1']);
  });

  it('uses the link when an item has no GUID, keeps a missing or bad date as null, rejects an item without title', async () => {
    const { news, rejects } = await read(`<rss version="2.0"><channel><title>x</title>
  <item><title>Bitcoin miners fear losses</title><link>https://example.invalid/a</link><pubDate>not a date</pubDate></item>
  <item><link>https://example.invalid/b</link></item>
  <item><title>No way to tell it again</title></item>
</channel></rss>`);
    expect(news).toHaveLength(1);
    expect(news[0]).toMatchObject({
      guid: 'https://example.invalid/a',
      published: null,
      receiveTime: 1_000,
      assets: ['BTC'],
    });
    expect(news[0]?.sentiment.score).toBeLessThan(0);
    expect(rejects.map((r) => r.reason)).toEqual(['missing-field', 'missing-field']);
  });

  it('tags tickers only as whole words in capitals, names in any case', async () => {
    const { news } = await read(`<rss version="2.0"><channel><title>x</title>
  <item><guid>1</guid><title>SOLAR power and ethical mining; $BTC dips</title></item>
  <item><guid>2</guid><title>ethereum devs meet</title></item>
  <item><guid>3</guid><title>Avalanche of eth news (lowercase ticker)</title></item>
</channel></rss>`);
    expect(news.map((n) => n.assets)).toEqual([['AVAX'], ['ETH'], ['BTC']]);
  });

  it('rejects a document that is neither RSS nor Atom', async () => {
    const { news, rejects } = await read('<html><body>maintenance</body></html>');
    expect(news).toHaveLength(0);
    expect(rejects.map((r) => r.reason)).toEqual(['bad-shape']);
  });
});
