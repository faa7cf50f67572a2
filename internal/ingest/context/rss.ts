import { XMLParser, XMLValidator } from 'fast-xml-parser';
import Sentiment from 'sentiment';
import { AssetTagger } from './news-tags.js';
import { type ContextReject, excerpt, type NewsRecord, newsKey, newsRecord } from './records.js';
import type { ContextItem, ContextSource, PollContext, PollResult } from './source.js';

export interface RssOptions {
  /** Unique per process, e.g. `coindesk`: the `source` of the headlines. */
  readonly name: string;
  readonly url: string;
  readonly intervalMs?: number;
  readonly staleAfterMs?: number;
  readonly requestsPerMinute?: number;
  /** Longest title and summary kept (characters); longer ones are cut. */
  readonly maxTitle?: number;
  readonly maxSummary?: number;
}

type Node = Record<string, unknown>;

/** The text of an element that may carry attributes (`{ '#text': ..., '@_isPermaLink': ... }`). */
function text(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() || null;
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && '#text' in v) return text((v as Node)['#text']);
  return null;
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** An Atom <link>: the href of the rel="alternate" one (or of the first without rel). */
function atomLink(v: unknown): string | null {
  const links = Array.isArray(v) ? v : v === undefined ? [] : [v];
  for (const l of links as Node[]) {
    const rel = l?.['@_rel'];
    if ((rel === undefined || rel === 'alternate') && typeof l?.['@_href'] === 'string') return l['@_href'] as string;
  }
  return null;
}

function stripHtml(s: string): string {
  return s
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function clip(s: string | null, max: number): string | null {
  if (s === null) return null;
  return s.length > max ? s.slice(0, max) : s;
}

/**
 * One RSS 2.0 or Atom news feed. The document must be well-formed XML (fast-xml-parser's
 * validator) or the whole fetch is rejected `bad-xml`; an item without a title, or without both
 * a GUID and a link, is rejected `missing-field`. Each headline is tagged with the assets it
 * names and scored with AFINN (`sentiment`) over title and summary; the feed's time
 * (pubDate, published, updated, dc:date) is kept beside the receive time, null when absent or
 * unreadable. Repeats (same GUID, or link when there is no GUID) are dropped by the runner.
 */
export function rssSource(o: RssOptions): ContextSource {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    textNodeName: '#text',
    parseTagValue: false,
    processEntities: true,
    htmlEntities: true,
    isArray: (name) => name === 'item' || name === 'entry',
  });
  const tagger = new AssetTagger();
  const sentiment = new Sentiment();
  const maxTitle = o.maxTitle ?? 500;
  const maxSummary = o.maxSummary ?? 2_000;
  return {
    name: o.name,
    kind: 'news',
    intervalMs: o.intervalMs ?? 5 * 60_000,
    requestsPerMinute: o.requestsPerMinute ?? 2,
    staleAfterMs: o.staleAfterMs ?? 6 * 3_600_000,
    async poll(ctx: PollContext): Promise<PollResult> {
      const body = await ctx.http.get(o.url, 'application/rss+xml, application/atom+xml, application/xml, text/xml');
      const rejects: ContextReject[] = [];
      const reject = (reason: ContextReject['reason'], message: string, t: string): void => {
        rejects.push({ source: o.name, reason, message, excerpt: excerpt(t), receiveTime: ctx.now });
      };
      const valid = XMLValidator.validate(body);
      if (valid !== true) {
        reject('bad-xml', `feed is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`, body);
        return { items: [], rejects };
      }
      const doc = parser.parse(body) as Node;
      const channel = (doc.rss as Node | undefined)?.channel as Node | undefined;
      const feed = doc.feed as Node | undefined;
      const entries = ((first(channel) as Node | undefined)?.item ?? feed?.entry) as Node[] | undefined;
      if (entries === undefined && channel === undefined && feed === undefined) {
        reject('bad-shape', 'document is neither an RSS channel nor an Atom feed', body);
        return { items: [], rejects };
      }
      const items: ContextItem[] = [];
      for (const e of entries ?? []) {
        const title = text(e.title);
        const link = text(e.link) ?? atomLink(e.link);
        const guid = text(e.guid) ?? text(e.id) ?? link;
        if (title === null || guid === null) {
          reject('missing-field', 'feed item has no title or no guid and link', JSON.stringify(e));
          continue;
        }
        const rawSummary = text(e.description) ?? text(e.summary) ?? text(e.content);
        const summary = rawSummary === null ? null : clip(stripHtml(rawSummary), maxSummary);
        const when = text(e.pubDate) ?? text(e.published) ?? text(e.updated) ?? text(e['dc:date']);
        const t = when === null ? Number.NaN : Date.parse(when);
        const cleanTitle = clip(stripHtml(title), maxTitle) as string;
        const words = summary === null ? cleanTitle : `${cleanTitle}. ${summary}`;
        const s = sentiment.analyze(words);
        const rec: NewsRecord = {
          source: o.name,
          guid,
          link,
          title: cleanTitle,
          summary,
          published: Number.isNaN(t) ? null : t,
          receiveTime: ctx.now,
          assets: tagger.tag(words),
          sentiment: { score: s.score, comparative: s.comparative },
        };
        items.push({ dedupeKey: newsKey(rec), record: newsRecord(rec) });
      }
      // Feeds list the newest first; the topic gets them oldest first.
      items.reverse();
      return { items, rejects };
    },
  };
}
