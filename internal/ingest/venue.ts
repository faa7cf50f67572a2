import type { Interval } from '../market/interval.js';
import { canonicalMarket } from '../market/markets.js';
import type { Trade } from '../market/trade.js';
import { type KlinePushParser, klinePushParser, type VenueKlinePush } from '../verify/kline-push.js';
import type { RejectReason } from './events.js';

/**
 * The contract of one venue adapter: what to connect to and send, and how to read what comes
 * back. Connection handling (reconnects, pings, staleness, rate limits) lives in the feed base
 * (feed.ts), gap handling and validation in the processor, reading and rejecting a trade's
 * fields in tradeReader (trade-reader.ts, from the adapter's TradeLayout); an adapter is only
 * protocol.
 */
export interface VenueAdapter {
  /** Trade.exchange of everything this adapter emits. */
  readonly venue: string;
  /**
   * Trade ids are consecutive integers per market, so a jump is a gap (and backfill can ask for
   * the missing range). Venues without this are deduplicated by id only.
   */
  readonly sequentialIds: boolean;
  /**
   * With sequentialIds: a trade's id is the last of `tradeCount` consecutive ids (OKX aggregates
   * the fills of one taker order at one price), so the next trade's first id follows it.
   */
  readonly idSpansTradeCount?: boolean;
  /**
   * Reads over REST what the adapter must know before its first frame (OKX: each derivative's
   * contract value). The ingestor awaits it before plan(); a symbol it cannot serve is a
   * ConfigError naming it.
   */
  readonly prepare?: (signal: AbortSignal) => Promise<void>;
  /** The connections to open for the adapter's symbols; each market is on exactly one. */
  plan(): readonly ConnectionPlan[];
  /**
   * Reads one text frame. Calls `out.trade` for each trade in the frame, in the venue's trade
   * order, `out.kline` for each push of the venue's candle channel (when the adapter subscribed
   * it: AdapterOptions.klineIntervals), `out.reject` for what cannot be read, and nothing for
   * control messages (acks, heartbeats, pongs) and known non-trade data. Never throws.
   */
  parse(frame: string, receiveTime: number, out: ParseOutput): void;
  /** Trades with ids fromId..toId (inclusive) over REST; only for sequentialIds venues with a REST URL. */
  readonly backfill?: (request: BackfillRequest) => Promise<Trade[]>;
  /**
   * The venue's most recent trades of a symbol over REST, for venues whose ids tell no gap: after
   * a lost connection the processor looks there for trades between the last one seen and the
   * first one after (Bybit's recent-trade).
   */
  readonly recent?: (request: RecentRequest) => Promise<RecentTrades>;
}

export interface RecentRequest {
  readonly symbol: string;
  readonly signal: AbortSignal;
}

export interface RecentTrades {
  /** Oldest first, in the venue's trade order. */
  readonly trades: readonly Trade[];
  /** The answer holds as many trades as the venue gives at most: older ones may be missing from it. */
  readonly full: boolean;
}

export interface ConnectionPlan {
  readonly url: string;
  /** Sent in order after the socket opens, no faster than the feed's outgoing rate limit. */
  readonly subscribe: readonly string[];
  readonly symbols: readonly string[];
  /** Application-level keepalive the venue expects (its own ping message), if any. */
  readonly keepalive?: { readonly message: string; readonly intervalMs: number };
  /** The venue's cap on messages the client sends per second on one connection. */
  readonly maxOutgoingPerSecond?: number;
  /** The venue closes connections at this age; the feed replaces them shortly before. */
  readonly maxLifetimeMs?: number;
  /**
   * The connection carries kline pushes only (OKX serves candles on another endpoint than
   * trades): its symbols' trades are on another connection, so losing it loses no trade.
   */
  readonly klinesOnly?: boolean;
}

/** Where VenueAdapter.parse puts what it read: each trade, each kline push, or a reject with its reason. */
export interface ParseOutput {
  trade(trade: Trade): void;
  /** A push of the venue's candle channel; absent: the caller does not want them (they are dropped). */
  kline?(push: VenueKlinePush): void;
  reject(reason: RejectReason, message: string, symbol?: string): void;
}

/**
 * The kline pushes of a frame the adapter knows to be one of its candle channel's, read by
 * `parser` (internal/verify/kline-push.ts) and handed to `out.kline`; a push that cannot be read
 * is a `bad-kline` reject. The frame is read again from its text: kline frames are a few a
 * second, and the parser is the one `tickmesh verify`'s tests hold to the recorded captures.
 */
export function emitKlines(parser: KlinePushParser, frame: string, out: ParseOutput): void {
  if (out.kline === undefined) return;
  const r = parser(frame);
  if ('reject' in r) {
    out.reject('bad-kline', r.reject);
    return;
  }
  for (const p of r.pushes) out.kline(p);
}

/** The parser of `venue`'s kline pushes; every venue with an adapter has one. */
export function venueKlineParser(venue: string): KlinePushParser {
  const parser = klinePushParser(venue);
  if (parser === undefined) throw new Error(`no kline parser for ${venue}`);
  return parser;
}

export interface BackfillRequest {
  readonly symbol: string;
  readonly fromId: bigint;
  readonly toId: bigint;
  /**
   * Event time (ms) of the last trade produced before the gap, when this process saw one (not
   * after a restart that seeded its ids from the log). Venues whose REST API pages by time
   * rather than by id (Kraken) start there.
   */
  readonly afterTime?: number;
  /** Event time (ms) of the trade that revealed the gap: the missing trades are not later. */
  readonly beforeTime: number;
  readonly signal: AbortSignal;
}

/** Common options of every adapter factory. */
export interface AdapterOptions {
  /** The venue's own symbols (see venueSymbol in internal/market/markets.ts). */
  readonly symbols: readonly string[];
  readonly wsUrl?: string;
  /** REST base URL for backfill; empty string disables backfill. */
  readonly restUrl?: string;
  /** HTTP client for backfill; tests and proxies pass their own. */
  readonly fetch?: typeof fetch;
  /** Sent as the venue's API key header on REST calls that want one (Binance historicalTrades). */
  readonly apiKey?: string;
  /**
   * Subscribe the venue's candle channel for these intervals, those of them the venue pushes
   * (klineChannelIntervals); empty or absent: trades only.
   */
  readonly klineIntervals?: readonly Interval[];
  /**
   * Base units per contract of venue symbols whose trades count contracts (OKX's swaps and
   * futures), as given in the venue's config; those not given are read over REST by prepare().
   */
  readonly contractValues?: Readonly<Record<string, string>>;
}

/**
 * The symbols a feed subscribed, each with its market id, resolved once. A trade for a symbol
 * not in the table is rejected as `unknown-symbol`.
 */
export class SymbolTable {
  private readonly markets = new Map<string, string>();
  constructor(
    readonly venue: string,
    symbols: readonly string[],
  ) {
    for (const s of symbols) {
      const market = canonicalMarket(venue, s);
      if (market !== undefined) this.markets.set(s, market);
    }
  }
  market(symbol: string): string | undefined {
    return this.markets.get(symbol);
  }
  get symbols(): string[] {
    return [...this.markets.keys()];
  }
}

/** Splits `items` into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Parses JSON or returns undefined; adapters turn undefined into a `malformed-frame` reject. */
export function tryParse(frame: string): unknown {
  try {
    return JSON.parse(frame);
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
