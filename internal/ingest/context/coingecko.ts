import { assetOfCoingecko, coingeckoIds } from '../../market/assets.js';
import { type ContextReject, excerpt, type ReferenceRecord, referenceKey, referenceRecord } from './records.js';
import type { ContextItem, ContextSource, PollContext, PollResult } from './source.js';

export interface CoingeckoOptions {
  readonly name?: string;
  /** Default https://api.coingecko.com/api/v3 (with a Pro key: https://pro-api.coingecko.com/api/v3). */
  readonly baseUrl?: string;
  /** Sent as `apiKeyHeader`; read from a file by the config (a Secret), never from a flag. */
  readonly apiKey?: string;
  /** Default x-cg-demo-api-key (the free Demo plan); x-cg-pro-api-key for Pro. */
  readonly apiKeyHeader?: string;
  readonly vsCurrency?: string;
  /** `/coins/markets` pages per markets poll (market-cap order) and coins per page (<= 250). */
  readonly pages?: number;
  readonly perPage?: number;
  /** Assets whose price `/simple/price` polls between markets polls. */
  readonly priceAssets?: readonly string[];
  /** One poll in this many fetches `/coins/markets`; the others `/simple/price`. Default 5. */
  readonly marketsEvery?: number;
  readonly intervalMs?: number;
  readonly staleAfterMs?: number;
  readonly requestsPerMinute?: number;
}

type Json = Record<string, unknown>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * CoinGecko reference data: `/coins/markets` (paged in market-cap order: price, market cap, rank,
 * 24 h volume and change, supplies) and `/simple/price` for the configured assets in between.
 * Coins map to tickmesh assets through internal/market/assets.ts; others are counted as unmapped.
 */
export function coingeckoSource(o: CoingeckoOptions = {}): ContextSource {
  const base = (o.baseUrl ?? 'https://api.coingecko.com/api/v3').replace(/\/+$/, '');
  const name = o.name ?? 'coingecko';
  const vs = o.vsCurrency ?? 'usd';
  const pages = o.pages ?? 1;
  const perPage = o.perPage ?? 100;
  const every = o.marketsEvery ?? 5;
  const headers: Record<string, string> | undefined = o.apiKey
    ? { [o.apiKeyHeader ?? 'x-cg-demo-api-key']: o.apiKey }
    : undefined;
  const ids = coingeckoIds(o.priceAssets ?? ['BTC', 'ETH', 'SOL', 'XRP']);
  let polls = 0;

  const reject = (now: number, reason: ContextReject['reason'], message: string, text: string): ContextReject => ({
    source: name,
    reason,
    message,
    excerpt: excerpt(text),
    receiveTime: now,
  });

  async function markets(ctx: PollContext, out: ContextItem[], rejects: ContextReject[]): Promise<number> {
    let unmapped = 0;
    for (let page = 1; page <= pages; page++) {
      const url = `${base}/coins/markets?vs_currency=${encodeURIComponent(vs)}&order=market_cap_desc&per_page=${perPage}&page=${page}&sparkline=false`;
      const text = await ctx.http.get(url, 'application/json', headers);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        rejects.push(reject(ctx.now, 'bad-json', 'coins/markets answer is not JSON', text));
        return unmapped;
      }
      if (!Array.isArray(body)) {
        rejects.push(reject(ctx.now, 'bad-shape', 'coins/markets answer is not an array', text));
        return unmapped;
      }
      for (const coin of body) {
        const r = readCoin(coin, ctx.now);
        if (typeof r === 'string') {
          rejects.push(reject(ctx.now, r, `coins/markets coin is unusable (${r})`, JSON.stringify(coin) ?? ''));
          continue;
        }
        const asset = assetOfCoingecko(r.id);
        if (asset === undefined) {
          unmapped++;
          continue;
        }
        const rec: ReferenceRecord = { source: name, asset, sourceId: r.id, vsCurrency: vs, ...r.fields };
        out.push({ dedupeKey: referenceKey(rec), record: referenceRecord(rec) });
      }
      if (body.length < perPage) break;
    }
    return unmapped;
  }

  async function prices(ctx: PollContext, out: ContextItem[], rejects: ContextReject[]): Promise<void> {
    const url = `${base}/simple/price?ids=${ids.join(',')}&vs_currencies=${encodeURIComponent(vs)}&include_market_cap=true&include_24hr_vol=true&include_24hr_change=true&include_last_updated_at=true`;
    const text = await ctx.http.get(url, 'application/json', headers);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      rejects.push(reject(ctx.now, 'bad-json', 'simple/price answer is not JSON', text));
      return;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      rejects.push(reject(ctx.now, 'bad-shape', 'simple/price answer is not an object', text));
      return;
    }
    for (const [id, v] of Object.entries(body as Json)) {
      const asset = assetOfCoingecko(id);
      const q = v as Json | null;
      const price = q && typeof q === 'object' ? num(q[vs]) : null;
      if (asset === undefined || price === null || price < 0) {
        rejects.push(reject(ctx.now, 'bad-value', `simple/price entry ${id} is unusable`, JSON.stringify(v) ?? ''));
        continue;
      }
      const at = num((q as Json).last_updated_at);
      const time = at !== null && at > 0 ? at * 1000 : ctx.now;
      const rec: ReferenceRecord = {
        source: name,
        asset,
        sourceId: id,
        vsCurrency: vs,
        price,
        marketCap: num((q as Json)[`${vs}_market_cap`]),
        rank: null,
        volume24h: num((q as Json)[`${vs}_24h_vol`]),
        change24hPct: num((q as Json)[`${vs}_24h_change`]),
        circulatingSupply: null,
        totalSupply: null,
        maxSupply: null,
        time,
        receiveTime: ctx.now,
      };
      out.push({ dedupeKey: referenceKey(rec), record: referenceRecord(rec) });
    }
  }

  return {
    name,
    kind: 'reference',
    intervalMs: o.intervalMs ?? 60_000,
    requestsPerMinute: o.requestsPerMinute ?? 10,
    staleAfterMs: o.staleAfterMs ?? 15 * 60_000,
    async poll(ctx: PollContext): Promise<PollResult> {
      const items: ContextItem[] = [];
      const rejects: ContextReject[] = [];
      let unmapped = 0;
      if (polls++ % every === 0) unmapped = await markets(ctx, items, rejects);
      else await prices(ctx, items, rejects);
      return { items, rejects, unmapped };
    },
  };
}

type CoinFields = Omit<ReferenceRecord, 'source' | 'asset' | 'sourceId' | 'vsCurrency'>;

/** One `/coins/markets` element, or the reason it is unusable. */
function readCoin(coin: unknown, now: number): { id: string; fields: CoinFields } | ContextReject['reason'] {
  if (coin === null || typeof coin !== 'object') return 'bad-shape';
  const c = coin as Json;
  if (typeof c.id !== 'string' || c.id === '') return 'missing-field';
  const price = num(c.current_price);
  if (price === null) return c.current_price === undefined ? 'missing-field' : 'bad-value';
  if (price < 0) return 'bad-value';
  let time = now;
  if (c.last_updated !== undefined && c.last_updated !== null) {
    const t = typeof c.last_updated === 'string' ? Date.parse(c.last_updated) : Number.NaN;
    if (Number.isNaN(t)) return 'bad-time';
    time = t;
  }
  const rank = num(c.market_cap_rank);
  return {
    id: c.id,
    fields: {
      price,
      marketCap: num(c.market_cap),
      rank: rank !== null && Number.isInteger(rank) && rank > 0 ? rank : null,
      volume24h: num(c.total_volume),
      change24hPct: num(c.price_change_percentage_24h),
      circulatingSupply: num(c.circulating_supply),
      totalSupply: num(c.total_supply),
      maxSupply: num(c.max_supply),
      time,
      receiveTime: now,
    },
  };
}
