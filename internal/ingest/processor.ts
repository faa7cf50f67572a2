import type { Trade } from '../market/trade.js';
import { tradeKey } from '../market/trade.js';
import { DEFAULT_MAX_EVENT_SKEW_MS } from '../market/trade-fields.js';
import type { Logger } from '../observe/logger.js';
import { type BackfillOutcome, makeReject, type RejectReason } from './events.js';
import type { LogWriter } from './log-writer.js';
import type { IngestMetrics, MarketMetrics } from './metrics.js';
import type { ProducedIds } from './resume.js';
import { type Lane, Sequencer } from './sequencer.js';
import { CHECK_MESSAGES, checkTrade } from './validate.js';
import type { BackfillRequest, RecentRequest, RecentTrades } from './venue.js';

export interface ProcessorOptions {
  readonly venue: string;
  /** Consecutive integer trade ids per market: enables gap detection. */
  readonly sequentialIds: boolean;
  /** A trade's id is the last of its `tradeCount` consecutive ids (VenueAdapter.idSpansTradeCount). */
  readonly idSpansTradeCount?: boolean;
  readonly writer: LogWriter;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  /** Fetches skipped trades; absent: gaps are recorded with backfill `disabled`. */
  readonly backfill?: (request: BackfillRequest) => Promise<Trade[]>;
  /**
   * The venue's recent trades (VenueAdapter.recent), for venues whose ids tell no gap: after
   * `reconnected`, each market's first new trade waits while the trades between the last one
   * seen and it are looked for there.
   */
  readonly recent?: (request: RecentRequest) => Promise<RecentTrades>;
  /** At most this many skipped trades are fetched per gap; the rest are recorded as unrecovered. Default 50,000. */
  readonly maxBackfill?: number;
  /** Whole backfill of one gap, all pages. Default 15 s. */
  readonly backfillTimeoutMs?: number;
  /** Observe receive-minus-event latency (live feeds yes, replays of old files no). */
  readonly observeLatency?: boolean;
  /** How far an event time may lie after its receive time (checkTrade). Default DEFAULT_MAX_EVENT_SKEW_MS. */
  readonly maxEventSkewMs?: number;
  /** Rejects written to the log per reason per minute; the rest are only counted. Default 10. */
  readonly rejectLogPerMinute?: number;
  /**
   * Trade ids already in the log per market key (`exchange:symbol`), oldest first, as a restarted
   * process reads them back (resume.ts): the sequencer starts from them, so the first trades after
   * a restart are checked for a gap over the downtime and the overlap is dropped, as after a
   * reconnect. Keys of other venues are ignored.
   */
  readonly seed?: ReadonlyMap<string, ProducedIds>;
}

/** What the processor keeps per market, found once per trade by exchange and symbol. */
interface MarketState {
  readonly lane: Lane;
  readonly metrics: MarketMetrics;
  /** Event time of the last trade produced, kept only when backfill is on (BackfillRequest.afterTime). */
  lastTime?: number;
  /** Id of the last trade produced, kept only when recovery from recent trades is on. */
  lastId?: string;
  /** The connection was lost since the last trade produced: look for missed trades before the next. */
  suspect?: boolean;
}

/**
 * The one path from a parsed trade to the log, shared by live feeds, replays and the simulator:
 * validate, deduplicate, detect and backfill gaps, write. Rejects are counted by reason, sampled
 * into the log and kept on the rejects topic.
 *
 * `trade()` returns a promise only when it has to wait (a gap being backfilled); callers await it
 * then, so that trades of one market stay in order.
 */
export class TradeProcessor {
  readonly venue: string;
  private readonly seq: Sequencer;
  private readonly writer: LogWriter;
  private readonly metrics: IngestMetrics;
  private readonly logger: Logger;
  private readonly latency: { observe(v: number): void } | undefined;
  private readonly maxSkew: number;
  private readonly logBudget = new Map<string, { minute: number; left: number }>();
  /** By exchange, then symbol: two lookups of the trade's own strings, no key built per trade. */
  private readonly markets = new Map<string, Map<string, MarketState>>();
  /** Running totals of this processor, for progress reports; metrics carry the same per market. */
  readonly stats = { produced: 0, duplicates: 0, rejected: 0, gaps: 0, resets: 0, backfilled: 0, unrecovered: 0 };

  constructor(private readonly options: ProcessorOptions) {
    this.venue = options.venue;
    this.maxSkew = options.maxEventSkewMs ?? DEFAULT_MAX_EVENT_SKEW_MS;
    this.seq = new Sequencer(options.sequentialIds);
    options.metrics.venue(options.venue);
    for (const [key, produced] of options.seed ?? []) {
      if (!key.startsWith(`${options.venue}:`)) continue;
      // Every seeded id carries the newest event time: a venue that resets its ids over the
      // downtime sends later trades, which the lane then tells from repeats.
      const time = produced.newestEventTime;
      for (const id of produced.ids)
        if (this.seq.check(key, id, time).kind !== 'bad-id') this.seq.accept(key, id, time);
    }
    this.writer = options.writer;
    this.metrics = options.metrics;
    this.logger = options.logger.child({ component: 'processor', venue: options.venue });
    this.latency = options.observeLatency === false ? undefined : options.metrics.latency(options.venue);
  }

  trade(t: Trade, raw: string | (() => string)): void | Promise<void> {
    const reason = checkTrade(t, this.maxSkew);
    if (reason !== undefined) return this.reject(reason, CHECK_MESSAGES[reason], raw, t.receiveTime, t.symbol);
    const m = this.state(t);
    const verdict = m.lane.check(t.tradeId, t.eventTime, this.options.idSpansTradeCount ? (t.tradeCount ?? 1) : 1);
    switch (verdict.kind) {
      case 'new':
        if (m.suspect) return this.recover(t, m);
        this.accept(t, m);
        return;
      case 'duplicate':
        this.stats.duplicates += 1;
        m.metrics.duplicates.inc();
        return;
      case 'bad-id':
        return this.reject('bad-trade-id', 'trade id is not a non-negative integer', raw, t.receiveTime, t.symbol);
      case 'gap':
        return this.gap(t, m, verdict.fromId, verdict.toId);
      case 'reset':
        this.reset(t, m);
        return;
    }
  }

  /**
   * A connection carrying `symbols` was lost and is back: with `recent`, the next new trade of
   * each of them (that had a trade before) first looks for what the connection missed.
   */
  reconnected(symbols: readonly string[]): void {
    if (!this.options.recent) return;
    const bySymbol = this.markets.get(this.venue);
    for (const symbol of symbols) {
      const m = bySymbol?.get(symbol);
      if (m?.lastId !== undefined) m.suspect = true;
    }
  }

  private state(t: Trade): MarketState {
    let bySymbol = this.markets.get(t.exchange);
    if (!bySymbol) {
      bySymbol = new Map();
      this.markets.set(t.exchange, bySymbol);
    }
    let m = bySymbol.get(t.symbol);
    if (!m) {
      m = { lane: this.seq.lane(tradeKey(t)), metrics: this.metrics.market(this.venue, t.market) };
      bySymbol.set(t.symbol, m);
    }
    return m;
  }

  reject(
    reason: RejectReason,
    message: string,
    raw: string | (() => string),
    receiveTime: number,
    symbol?: string,
  ): void {
    this.stats.rejected += 1;
    this.metrics.reject(this.venue, reason);
    const text = typeof raw === 'string' ? raw : raw();
    const r = makeReject(this.venue, reason, message, text, receiveTime, symbol);
    this.writer.reject(r);
    const minute = Math.floor(Date.now() / 60_000);
    let budget = this.logBudget.get(reason);
    if (!budget || budget.minute !== minute) {
      budget = { minute, left: this.options.rejectLogPerMinute ?? 10 };
      this.logBudget.set(reason, budget);
    }
    if (budget.left > 0) {
      budget.left -= 1;
      this.logger.warn({ reason, detail: message, symbol, raw: r.raw.slice(0, 512) }, 'input rejected');
    }
  }

  /**
   * The venue restarted this market's numbering (sequencer.ts, resets): recorded on the gaps
   * topic as a `reset` event (fromId: the last id of the old numbering, toId: the first of the
   * new), counted and logged; the trade is produced and the lane goes on from it.
   */
  private reset(t: Trade, m: MarketState): void {
    const lastId = m.lane.lastId ?? '';
    this.stats.resets += 1;
    m.metrics.resets.inc();
    this.writer.gap({
      venue: this.venue,
      symbol: t.symbol,
      market: t.market,
      kind: 'reset',
      fromId: lastId,
      toId: t.tradeId,
      missing: 0,
      backfilled: 0,
      unrecovered: 0,
      unrecoveredRanges: [],
      detectedAt: t.receiveTime,
      backfill: 'disabled',
    });
    this.logger.warn({ symbol: t.symbol, lastId, firstId: t.tradeId, eventTime: t.eventTime }, 'trade id reset');
    this.accept(t, m);
  }

  private accept(t: Trade, m: MarketState): void {
    m.lane.accept(t.tradeId, t.eventTime);
    if (this.options.backfill || this.options.recent) m.lastTime = t.eventTime;
    if (this.options.recent) m.lastId = t.tradeId;
    this.writer.trade(t);
    this.stats.produced += 1;
    m.metrics.trades.inc();
    m.metrics.lastTradeAt = Date.now();
    this.latency?.observe((t.receiveTime - t.eventTime) / 1000);
  }

  private async gap(t: Trade, m: MarketState, fromId: number, toId: number): Promise<void> {
    const missing = toId - fromId + 1;
    let outcome: BackfillOutcome = 'disabled';
    let backfilled = 0;
    const unrecoveredRanges: Array<[string, string]> = [];
    if (this.options.backfill) {
      const cap = this.options.maxBackfill ?? 50_000;
      const lastWanted = Math.min(toId, fromId + cap - 1);
      let fetched: Trade[] = [];
      try {
        const afterTime = m.lastTime;
        fetched = await this.options.backfill({
          symbol: t.symbol,
          fromId: BigInt(fromId),
          toId: BigInt(lastWanted),
          ...(afterTime === undefined ? {} : { afterTime }),
          beforeTime: t.eventTime,
          signal: AbortSignal.timeout(this.options.backfillTimeoutMs ?? 15_000),
        });
      } catch (err) {
        this.logger.error({ err, symbol: t.symbol, fromId, toId }, 'backfill failed');
      }
      fetched.sort((a, b) => Number(a.tradeId) - Number(b.tradeId));
      let expect = fromId;
      for (const f of fetched) {
        const id = Number(f.tradeId);
        if (id < expect || id > lastWanted || f.symbol !== t.symbol || checkTrade(f, this.maxSkew) !== undefined)
          continue;
        if (id > expect) unrecoveredRanges.push([String(expect), String(id - 1)]);
        this.accept(f, m);
        backfilled += 1;
        expect = id + 1;
      }
      if (expect <= toId) unrecoveredRanges.push([String(expect), String(toId)]);
      outcome = backfilled === missing ? 'complete' : backfilled > 0 ? 'partial' : 'failed';
    } else {
      unrecoveredRanges.push([String(fromId), String(toId)]);
    }
    const unrecovered = missing - backfilled;
    this.stats.gaps += 1;
    this.stats.backfilled += backfilled;
    this.stats.unrecovered += unrecovered;
    m.metrics.gaps.inc();
    if (backfilled > 0) m.metrics.backfilled.inc(backfilled);
    if (unrecovered > 0) m.metrics.unrecovered.inc(unrecovered);
    this.writer.gap({
      venue: this.venue,
      symbol: t.symbol,
      market: t.market,
      fromId: String(fromId),
      toId: String(toId),
      missing,
      backfilled,
      unrecovered,
      unrecoveredRanges: unrecoveredRanges.slice(0, 100),
      detectedAt: t.receiveTime,
      backfill: outcome,
    });
    const log = unrecovered > 0 ? this.logger.warn.bind(this.logger) : this.logger.info.bind(this.logger);
    log({ symbol: t.symbol, fromId, toId, missing, backfilled, unrecovered, backfill: outcome }, 'trade id gap');
    this.accept(t, m);
  }

  /**
   * The trades a lost connection missed, from the venue's recent trades: those after the last
   * trade produced and before `t` (by position in the venue's list when it holds them, by event
   * time otherwise) that were not produced, in the venue's order, before `t`. Recorded as a gap
   * with its time window when any were found or when the list does not reach back to the last
   * trade produced (`partial`: an unknown number may be missing).
   */
  private async recover(t: Trade, m: MarketState): Promise<void> {
    m.suspect = false;
    const fromTime = m.lastTime as number;
    const lastId = m.lastId as string;
    let got: RecentTrades | undefined;
    try {
      got = await (this.options.recent as NonNullable<ProcessorOptions['recent']>)({
        symbol: t.symbol,
        signal: AbortSignal.timeout(this.options.backfillTimeoutMs ?? 15_000),
      });
    } catch (err) {
      this.logger.error({ err, symbol: t.symbol }, 'recent trades failed');
    }
    const list = (got?.trades ?? []).filter((f) => f.symbol === t.symbol);
    const lastAt = list.findIndex((f) => f.tradeId === lastId);
    const nextAt = list.findIndex((f) => f.tradeId === t.tradeId);
    const from = lastAt >= 0 ? lastAt + 1 : list.findIndex((f) => f.eventTime >= fromTime);
    const to = nextAt >= 0 ? nextAt : list.length;
    const covered = got !== undefined && (lastAt >= 0 || !got.full || (list[0]?.eventTime ?? fromTime) < fromTime);
    let found = 0;
    let first = '';
    let last = '';
    for (let i = Math.max(0, from); from >= 0 && i < to; i++) {
      const f = list[i] as Trade;
      if (f.eventTime < fromTime || f.eventTime > t.eventTime || checkTrade(f) !== undefined) continue;
      if (m.lane.check(f.tradeId, f.eventTime).kind !== 'new') continue;
      this.accept(f, m);
      found += 1;
      if (first === '') first = f.tradeId;
      last = f.tradeId;
    }
    if (found > 0 || !covered) {
      const outcome: BackfillOutcome = got === undefined ? 'failed' : covered ? 'complete' : 'partial';
      this.stats.gaps += 1;
      this.stats.backfilled += found;
      m.metrics.gaps.inc();
      if (found > 0) m.metrics.backfilled.inc(found);
      this.writer.gap({
        venue: this.venue,
        symbol: t.symbol,
        market: t.market,
        fromId: first,
        toId: last,
        missing: found,
        backfilled: found,
        unrecovered: 0,
        unrecoveredRanges: [],
        detectedAt: t.receiveTime,
        backfill: outcome,
        window: { fromTime, toTime: t.eventTime },
      });
      const log = covered ? this.logger.info.bind(this.logger) : this.logger.warn.bind(this.logger);
      log(
        { symbol: t.symbol, fromTime, toTime: t.eventTime, found, backfill: outcome },
        'trades missed by a lost connection',
      );
    }
    this.accept(t, m);
  }
}
