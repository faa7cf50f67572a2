import type { NewsRecord, ReferenceRecord, SentimentRecord } from '../../market/context.js';
import { prng } from '../simulator.js';
import { newsKey, newsRecord, referenceKey, referenceRecord, sentimentKey, sentimentRecord } from './records.js';
import type { ContextItem, ContextSource, PollContext, PollResult } from './source.js';

/**
 * Simulated context sources for `tickmesh dev` without the internet: made-up reference data,
 * Fear & Greed values and headlines, through the same runner, topics, tables and routes as the
 * real connectors. Every record says so: `source` is SIMULATED_SOURCE, reference ids are
 * `simulated-<asset>`, headlines start with `[SIMULATED]` and link nowhere. No HTTP.
 */
export const SIMULATED_SOURCE = 'simulated';

export interface ContextSimulatorOptions {
  /** tickmesh assets the records are about (BTC, ETH, ...). */
  readonly assets: readonly string[];
  readonly seed?: number;
  /** Between two polls of each source; default 15 s (reference), 20 s (news), 1 h (sentiment). */
  readonly referenceIntervalMs?: number;
  readonly newsIntervalMs?: number;
  readonly sentimentIntervalMs?: number;
}

const DAY_MS = 86_400_000;
const START_PRICE: Readonly<Record<string, number>> = { BTC: 60_000, ETH: 3_000, SOL: 150, BNB: 550, XRP: 0.6 };

const HEADLINES: ReadonlyArray<readonly [string, number]> = [
  ['{name} rallies as traders pile into {asset}', 2],
  ['{name} slides after a large holder moves {asset} to an exchange', -2],
  ['Analysts split on where {name} ({asset}) goes next', 0],
  ['{asset} funding rates jump as {name} open interest climbs', 1],
  ['{name} network upgrade ships without trouble', 2],
  ['Regulator warns of risks in {name} ({asset}) products', -3],
];

const NAMES: Readonly<Record<string, string>> = {
  BTC: 'Bitcoin',
  ETH: 'Ethereum',
  SOL: 'Solana',
  BNB: 'BNB Chain',
  XRP: 'XRP',
};

function classify(v: number): string {
  return v < 25 ? 'Extreme Fear' : v < 46 ? 'Fear' : v < 55 ? 'Neutral' : v < 76 ? 'Greed' : 'Extreme Greed';
}

/** The three simulated sources (reference, sentiment, news) over `assets`. */
export function contextSimulatorSources(o: ContextSimulatorOptions): ContextSource[] {
  const random = prng(o.seed ?? 7);
  const prices = new Map(o.assets.map((a) => [a, START_PRICE[a] ?? 1]));
  let fng = 50;
  let headlineCount = 0;
  const base = {
    requestsPerMinute: 6_000,
  };

  const reference: ContextSource = {
    ...base,
    name: `${SIMULATED_SOURCE}-reference`,
    kind: 'reference',
    intervalMs: o.referenceIntervalMs ?? 15_000,
    staleAfterMs: 10 * (o.referenceIntervalMs ?? 15_000),
    async poll(ctx: PollContext): Promise<PollResult> {
      const items: ContextItem[] = [];
      o.assets.forEach((asset, i) => {
        const price = (prices.get(asset) ?? 1) * (1 + (random() - 0.5) * 0.004);
        prices.set(asset, price);
        const supply = 1e6 * (i + 1) * 19;
        const r: ReferenceRecord = {
          source: SIMULATED_SOURCE,
          asset,
          sourceId: `simulated-${asset.toLowerCase()}`,
          vsCurrency: 'usd',
          price: Number(price.toPrecision(8)),
          marketCap: Math.round(price * supply),
          rank: i + 1,
          volume24h: Math.round(price * supply * 0.03),
          change24hPct: Number(((random() - 0.5) * 8).toFixed(3)),
          circulatingSupply: supply,
          totalSupply: supply,
          maxSupply: null,
          time: ctx.now,
          receiveTime: ctx.now,
        };
        items.push({ dedupeKey: referenceKey(r), record: referenceRecord(r) });
      });
      return { items, rejects: [] };
    },
  };

  const sentiment: ContextSource = {
    ...base,
    name: `${SIMULATED_SOURCE}-sentiment`,
    kind: 'sentiment',
    intervalMs: o.sentimentIntervalMs ?? 3_600_000,
    staleAfterMs: 2 * DAY_MS,
    async poll(ctx: PollContext): Promise<PollResult> {
      const today = Math.floor(ctx.now / DAY_MS) * DAY_MS;
      // A first start brings a month of history, as the real index's does (all of it).
      const days = ctx.firstStart ? 30 : 1;
      const items: ContextItem[] = [];
      for (let d = days - 1; d >= 0; d--) {
        fng = Math.min(100, Math.max(0, Math.round(fng + (random() - 0.5) * 12)));
        const s: SentimentRecord = {
          source: SIMULATED_SOURCE,
          index: 'crypto-fear-greed',
          value: fng,
          classification: classify(fng),
          time: today - d * DAY_MS,
          receiveTime: ctx.now,
        };
        items.push({ dedupeKey: sentimentKey(s), record: sentimentRecord(s) });
      }
      return { items, rejects: [] };
    },
  };

  const news: ContextSource = {
    ...base,
    name: `${SIMULATED_SOURCE}-news`,
    kind: 'news',
    intervalMs: o.newsIntervalMs ?? 20_000,
    staleAfterMs: 10 * (o.newsIntervalMs ?? 20_000),
    async poll(ctx: PollContext): Promise<PollResult> {
      const asset = o.assets[Math.floor(random() * o.assets.length)];
      if (asset === undefined) return { items: [], rejects: [] };
      const [template, score] = HEADLINES[Math.floor(random() * HEADLINES.length)] as readonly [string, number];
      const title = `[SIMULATED] ${template.replaceAll('{name}', NAMES[asset] ?? asset).replaceAll('{asset}', asset)}`;
      const n: NewsRecord = {
        source: SIMULATED_SOURCE,
        guid: `simulated-${ctx.now}-${++headlineCount}`,
        link: null,
        title,
        summary: 'A simulated headline: tickmesh dev makes these up when no news feed is configured.',
        published: ctx.now,
        receiveTime: ctx.now,
        assets: [asset],
        sentiment: { score, comparative: score / title.split(' ').length },
      };
      return { items: [{ dedupeKey: newsKey(n), record: newsRecord(n) }], rejects: [] };
    },
  };

  return [reference, sentiment, news];
}
