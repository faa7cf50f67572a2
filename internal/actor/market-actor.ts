import type { Alert } from '../market/alert.js';
import type { Candle } from '../market/candle.js';
import { nests } from '../market/interval.js';
import type { Trade } from '../market/trade.js';
import { isIdReset } from '../market/trade-fields.js';
import type { TradeRow } from '../market/trade-row.js';
import { ConfigError } from '../runtime/errors.js';
import { BUY_VOLUME, type CandleContext, CandleWindow, ParsedTrade, VOLUME } from './candle-window.js';
import { readCounters, readEnd, readHeader, writeCounters, writeHeader } from './checkpoint.js';
import type { ActorConfig } from './config.js';
import { MAX_SAFE, MAX_SCALE, type ParsedDecimal, POW10, parseDecimal, wideToReal } from './decimal.js';
import { IntervalWindows, type WindowListener } from './interval-windows.js';
import {
  type ActorCounters,
  type ActorOutput,
  type RejectedTradeReason,
  type TradeOutcome,
  zeroCounters,
} from './output.js';
import { PriceSpikeDetector } from './price-spike.js';
import { RevisableIndicators } from './revisable-indicators.js';
import { StaleMarketDetector } from './stale-market.js';
import { StateReader, StateWriter } from './state-codec.js';
import { TradeIdSet } from './trade-id-set.js';
import { TrendModel } from './trend-model.js';
import { VolumeSpikeDetector } from './volume-spike.js';
import { WhaleTradeDetector } from './whale-trade.js';

/** The market an actor serves: the venue's own spelling and the canonical id. */
export interface MarketIdentity {
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
}

const NOTIONAL_LIMIT = 1n << 90n;

/** onTrade's parse of a Trade, handed to onTradeRow: one per actor, reused. */
class StringTradeRow implements TradeRow {
  priceValue = 0;
  priceScale = 0;
  sizeValue = 0;
  sizeScale = 0;
  eventTime = 0;
  tradeId = '';
  idNum = Number.NaN;
  buy = false;
  tradeCount = 1;
  trade: Trade | undefined;

  toTrade(): Trade {
    return this.trade as Trade;
  }
}

/** The trade id as a number when it is a canonical decimal integer of at most 15 digits, else NaN. */
function numericId(id: string): number {
  const n = id.length;
  if (n === 0 || n > 15 || (n > 1 && id.charCodeAt(0) === 48)) return Number.NaN;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    v = v * 10 + c;
  }
  return v;
}

/**
 * One market's pure analytics core: event-time candle windows of every configured interval,
 * indicators and detectors, with duplicate suppression, lateness and revisions. No I/O, no
 * clock: time comes in through the trades' event times and the `watermark` and `now` arguments.
 *
 * Driving it (the worker):
 * - `onTrade(trade, now, out)` for every trade of this market, in the order the log holds them;
 * - `advance(watermark, now, out)` to close windows of a market that went quiet and to flush
 *   rate-limited partial candles: replaying, with the partition's watermark (its newest event
 *   time minus config.outOfOrdernessMs); live, with `now - config.outOfOrdernessMs` every
 *   100 ms or so;
 * - `snapshot()` at a checkpoint, `MarketActor.restore(bytes, config)` to resume: a restored
 *   actor fed the same calls emits exactly what the original would have.
 *
 * Outputs go to the caller's ActorOutput; `counters` accumulate and are part of the checkpoint.
 */
export class MarketActor implements WindowListener {
  readonly config: ActorConfig;
  readonly exchange: string;
  readonly symbol: string;
  readonly market: string;
  readonly counters: ActorCounters = zeroCounters();

  private readonly ctx: CandleContext;
  private readonly tracks: IntervalWindows[];
  /**
   * Per interval: true when its windows are unions of the finest interval's windows. Such an
   * interval is not touched per trade: the finest windows fold into it as they close, and only
   * trades that land in an already closed finest window are added to it directly.
   */
  private readonly nested: boolean[];
  private readonly indicators: RevisableIndicators[];
  /** Per interval, when config.trend.enabled; else empty. */
  private trends: TrendModel[];
  private readonly detectorTrack: number;
  private readonly priceSpike = new PriceSpikeDetector();
  private readonly volumeSpike: VolumeSpikeDetector;
  private readonly stale = new StaleMarketDetector();
  private readonly whale: WhaleTradeDetector;
  private ids = new TradeIdSet();
  private readonly parsed = new ParsedTrade();
  private readonly scratch: ParsedDecimal = { value: 0, scale: 0 };
  private readonly fromTrade = new StringTradeRow();

  private maxEventTime = Number.NEGATIVE_INFINITY;
  private wm = Number.NEGATIVE_INFINITY;
  /** Smallest (nextClose + len) over the intervals: the watermark that closes something. */
  private deadline = Number.POSITIVE_INFINITY;
  private lastPartialAt = Number.NEGATIVE_INFINITY;
  private partialPending = false;
  /** A trade was accepted since the last price update (flushPrice); live, not in the snapshot. */
  private priceMoved = false;
  /** Largest scaled price ever accepted: bounds every price the state holds, for rescaling. */
  private maxPrice = 0;
  private out: ActorOutput | null = null;

  constructor(identity: MarketIdentity, config: ActorConfig) {
    this.config = config;
    this.exchange = identity.exchange;
    this.symbol = identity.symbol;
    this.market = identity.market;
    this.ctx = { exchange: this.exchange, symbol: this.symbol, market: this.market, priceScale: 0, sizeScale: 0 };
    this.tracks = config.intervals.map((i) => new IntervalWindows(i));
    const finest = this.tracks[0] as IntervalWindows;
    this.nested = this.tracks.map((t, i) => i > 0 && nests(finest.interval, t.interval));
    this.indicators = this.tracks.map((t) => new RevisableIndicators(t.interval, config.indicators, t.len));
    this.trends = config.trend.enabled ? this.tracks.map(() => new TrendModel(config.trend)) : [];
    this.detectorTrack = config.intervals.indexOf(config.detectors.interval);
    this.volumeSpike = new VolumeSpikeDetector(config.detectors.volumeSpike.window);
    this.whale = new WhaleTradeDetector(config.detectors.whaleTrade, this.market);
  }

  /** Newest event time minus the out-of-orderness, or the highest watermark given to advance. */
  get watermark(): number {
    return this.wm;
  }

  /** Newest trade event time accepted or seen; -Infinity before the first. */
  get lastEventTime(): number {
    return this.maxEventTime;
  }

  /** Decimal places the actor holds prices and sizes at (grows with the data, never shrinks). */
  get scales(): { readonly price: number; readonly size: number } {
    return { price: this.ctx.priceScale, size: this.ctx.sizeScale };
  }

  /**
   * Adds one trade of this market (the caller routes by exchange and symbol; the actor does not
   * check). `now` is the wall clock in ms, used only to rate-limit partial candles.
   */
  onTrade(trade: Trade, now: number, out: ActorOutput): TradeOutcome {
    const sc = this.scratch;
    if (!parseDecimal(trade.price, sc) || sc.value === 0) return this.reject(trade, 'invalid-price', out);
    const row = this.fromTrade;
    row.priceValue = sc.value;
    row.priceScale = sc.scale;
    if (!parseDecimal(trade.size, sc) || sc.value === 0) return this.reject(trade, 'invalid-size', out);
    row.sizeValue = sc.value;
    row.sizeScale = sc.scale;
    row.eventTime = trade.eventTime;
    row.tradeId = trade.tradeId;
    row.idNum = numericId(trade.tradeId);
    row.buy = trade.side === 'buy';
    const count = trade.tradeCount;
    row.tradeCount = count !== undefined && Number.isSafeInteger(count) && count > 0 ? count : 1;
    row.trade = trade;
    return this.onTradeRow(row, now, out);
  }

  /**
   * onTrade for a trade whose decimals and id are already parsed (TradeRow): the same outcome
   * and outputs as onTrade of `row.toTrade()`.
   */
  onTradeRow(row: TradeRow, now: number, out: ActorOutput): TradeOutcome {
    const ctx = this.ctx;
    let price = row.priceValue;
    const priceScale = row.priceScale;
    let size = row.sizeValue;
    const sizeScale = row.sizeScale;
    const time = row.eventTime;
    if (!Number.isSafeInteger(time) || time < 0) return this.reject(row.toTrade(), 'invalid-time', out);
    if (priceScale > ctx.priceScale && !this.growPriceScale(priceScale)) {
      return this.reject(row.toTrade(), 'precision', out);
    }
    if (sizeScale > ctx.sizeScale && !this.growSizeScale(sizeScale)) {
      return this.reject(row.toTrade(), 'precision', out);
    }
    if (priceScale < ctx.priceScale) price *= POW10[ctx.priceScale - priceScale] as number;
    if (sizeScale < ctx.sizeScale) size *= POW10[ctx.sizeScale - sizeScale] as number;
    if (price > MAX_SAFE || size > MAX_SAFE) return this.reject(row.toTrade(), 'precision', out);
    const t = this.parsed;
    t.price = price;
    t.size = size;
    const q = price * size;
    if (q <= MAX_SAFE) {
      t.notional = q;
    } else {
      const big = BigInt(price) * BigInt(size);
      // Wide sums hold up to 2^105: capping one trade at 2^90 leaves room for 32,768 of them per window.
      if (big >= NOTIONAL_LIMIT) return this.reject(row.toTrade(), 'precision', out);
      t.notional = -1;
      t.notionalBig = big;
    }

    const id = row.tradeId;
    const idNum = row.idNum;
    // biome-ignore lint/suspicious/noSelfCompare: NaN test on the hot path
    const fresh = idNum === idNum ? this.ids.addNumber(idNum) : this.ids.addString(id, time);
    if (!fresh) {
      // A repeat is a trade accepted before, so never dated after every accepted trade; an id
      // seen before but dated later is the venue restarting its numbering (isIdReset).
      // biome-ignore lint/suspicious/noSelfCompare: NaN test
      const numeric = idNum === idNum;
      if (!isIdReset(numeric ? this.ids.maxNumber - idNum : Number.NaN, time, this.maxEventTime)) {
        this.counters.duplicates++;
        return 'duplicate';
      }
      if (numeric) this.ids.restartFrom(idNum);
      else this.ids.renewString(id, time);
      this.counters.idResets++;
    }
    const wm = this.wm;
    if (time < wm && this.tooLate(time, wm)) {
      this.counters.late++;
      out.late.push({ trade: row.toTrade(), watermark: wm });
      return 'late';
    }

    t.buy = row.buy;
    t.time = time;
    t.idNum = idNum;
    t.id = id;
    t.count = row.tradeCount;
    if (price > this.maxPrice) this.maxPrice = price;

    this.out = out;
    const tracks = this.tracks;
    const finest = tracks[0] as IntervalWindows;
    let next = finest.nextClose;
    // Late for the finest interval: its window was already folded into the coarser ones.
    const late = finest.add(t, this);
    let revised = late;
    let moved = finest.nextClose !== next;
    for (let i = 1; i < tracks.length; i++) {
      if (!late && this.nested[i]) continue;
      const track = tracks[i] as IntervalWindows;
      next = track.nextClose;
      if (track.add(t, this)) revised = true;
      if (track.nextClose !== next) moved = true;
    }
    if (moved) this.refreshDeadline();
    this.counters.accepted++;
    if (revised) this.counters.revisingTrades++;
    const whale = this.whale.check(t, row, ctx);
    if (whale !== undefined) this.alert(whale);
    this.stale.reset();
    if (time > this.maxEventTime) {
      this.maxEventTime = time;
      const w = time - this.config.outOfOrdernessMs;
      if (w > this.wm) this.wm = w;
    }
    if (this.wm >= this.deadline) this.closeWindows();
    if (this.config.partialUpdates) {
      if (!revised) this.priceMoved = true;
      if (now - this.lastPartialAt >= this.config.partialMinIntervalMs) this.emitPartials(now);
      else this.partialPending = true;
    }
    this.out = null;
    return revised ? 'revised' : 'accepted';
  }

  /**
   * Raises the watermark to `watermark` (never lowers it), closing every window it passes, and
   * flushes a pending partial update if the rate limit allows at `now`. Also runs the
   * stale-market check at event time `watermark + outOfOrdernessMs`.
   */
  advance(watermark: number, now: number, out: ActorOutput): void {
    this.out = out;
    if (watermark > this.wm) {
      this.wm = watermark;
      if (this.wm >= this.deadline) this.closeWindows();
    }
    const stale = this.stale.check(
      this.wm + this.config.outOfOrdernessMs,
      this.maxEventTime,
      this.volumeSpike.samples >= this.config.detectors.volumeSpike.minSamples
        ? this.volumeSpike.meanTrades()
        : Number.NaN,
      this.ctx,
      this.config.detectors.staleMarket,
    );
    if (stale !== undefined) this.alert(stale);
    if (this.partialPending && now - this.lastPartialAt >= this.config.partialMinIntervalMs) this.emitPartials(now);
    this.out = null;
  }

  /**
   * The lowest watermark at which advance() does more than raise the watermark: a window closes
   * or the stale-market check raises (+Infinity: neither, until the next trade). advance() below
   * it, partial updates aside, changes nothing but the watermark, so a caller may skip it and
   * reach() the same watermark later (the worker's sweeps visit only actors at or past it).
   */
  nextDue(): number {
    let due = this.deadline;
    const cfg = this.config.detectors.staleMarket;
    if (!cfg.enabled || this.stale.level >= 2 || !Number.isFinite(this.maxEventTime)) return due;
    const mean =
      this.volumeSpike.samples >= this.config.detectors.volumeSpike.minSamples
        ? this.volumeSpike.meanTrades()
        : Number.NaN;
    if (!(mean >= cfg.minTradesPerCandle) || mean === 0) return due;
    // StaleMarketDetector.check at event time `watermark + outOfOrdernessMs`.
    const limit = this.stale.level === 1 ? cfg.afterMs * cfg.criticalMultiple : cfg.afterMs;
    const stale = this.maxEventTime + limit - this.config.outOfOrdernessMs;
    if (stale < due) due = stale;
    return due;
  }

  /** A partial update waits for its rate limit (flushPartials or advance publishes it). */
  get pendingPartial(): boolean {
    return this.partialPending;
  }

  /**
   * Raises the watermark to `watermark` and closes the windows it passes as a step to `cutAs`
   * (at least `watermark`) would: a run of empty windows longer than config.emptyCandleLimit is
   * cut as that step cuts it. Nothing else: no stale-market check, no partial update. So
   * reach(w, c) then advance(c) does exactly what advance(c) does: how an idle actor stops at its
   * leaving point inside a sweep of the worker without changing what the sweep does.
   */
  reach(watermark: number, cutAs: number, out: ActorOutput): void {
    if (!(watermark > this.wm)) return;
    this.out = out;
    this.wm = watermark;
    if (this.wm >= this.deadline) this.closeWindows(Math.max(cutAs, watermark));
    this.out = null;
  }

  /**
   * Publishes the partial update the rate limit held back, once it allows at `now`; nothing
   * else (no watermark, no detector): partials are live outputs, outside the checkpointed
   * results, so the moment they go out does not change what a run commits. For ticks of a
   * partition that does not follow the clock (a replay): without it the last trades of a burst
   * showed only when the next trade came.
   */
  flushPartials(now: number, out: ActorOutput): void {
    if (!this.partialPending || now - this.lastPartialAt < this.config.partialMinIntervalMs) return;
    this.out = out;
    this.emitPartials(now);
    this.out = null;
  }

  /**
   * Publishes the market's latest trade (PriceUpdate) if a trade was accepted since the last
   * one: the caller decides how often (the worker, once per batch for the markets it touched),
   * apart from the partial updates' rate limit. A live output like the partials (only with
   * `partialUpdates`), outside the checkpointed results.
   */
  flushPrice(out: ActorOutput): void {
    if (!this.priceMoved) return;
    this.priceMoved = false;
    const finest = this.tracks[0] as IntervalWindows;
    let newest: CandleWindow | undefined;
    for (const w of finest.openWindows())
      if (w.count > 0 && (newest === undefined || w.start > newest.start)) newest = w;
    if (newest) out.prices.push({ candle: newest.toCandle(this.ctx, finest.interval, false), time: newest.lastTime });
  }

  /**
   * End of input (offline runs): closes every window that holds trades, each interval up to its
   * own last window, so no empty candle follows the last trade. advance() with a far-future
   * watermark would instead emit empty candles all the way to it. The watermark ends at the
   * latest window end; a later advance or trade closes the finer intervals' empty windows up to it.
   */
  flush(now: number, out: ActorOutput): void {
    this.out = out;
    let end = this.wm;
    for (const track of this.tracks) {
      const last = track.windows[track.windows.length - 1];
      if (last === undefined || last.closed) continue;
      track.closeUntil(last.end, this.config.allowedLatenessMs, this, this.config.emptyCandleLimit);
      if (last.end > end) end = last.end;
    }
    this.wm = end;
    this.refreshDeadline();
    this.pruneIds();
    this.out = null;
    this.advance(end, now, out);
  }

  /**
   * Whether the actor may leave memory until its next trade (the worker's eviction of idle
   * markets): every window it keeps is closed and empty (its candles are final; a partial update
   * still pending has then nothing to publish, so it does not count: it depends on the wall
   * clock, and dormancy must depend on the data alone), and the stale-market detector can raise
   * nothing more (it raised its critical alert, is off, or the baseline it compares with is
   * below its bar: all empty candles, or judged and under `minTradesPerCandle`). From such a state,
   * what advance() does depends only on the windows that close, not on how the watermark got
   * there, so a snapshot restored later and advanced over the watermarks it missed (in steps
   * that cut no run of empty candles, see emptyCandleLimit) is the actor that stayed.
   */
  dormant(): boolean {
    for (const track of this.tracks) for (const w of track.windows) if (!w.closed || w.count > 0) return false;
    const stale = this.config.detectors.staleMarket;
    if (!stale.enabled || this.stale.level >= 2) return true;
    const mean = this.volumeSpike.meanTrades();
    if (!(mean > 0)) return true;
    // While the market is silent its baseline only falls (empty candles join it): once judged
    // and below the detector's bar, it stays below, and the detector raises nothing more.
    return this.volumeSpike.samples >= this.config.detectors.volumeSpike.minSamples && mean < stale.minTradesPerCandle;
  }

  /** The open windows of every interval as partial candles (closed = false), oldest first. */
  openCandles(): Candle[] {
    const result: Candle[] = [];
    this.tracks.forEach((track, i) => {
      for (const w of this.openView(i, false)) result.push(w.toCandle(this.ctx, track.interval, false));
    });
    return result;
  }

  /**
   * The open windows of interval i as consumers see them: for a nested interval, its window
   * (the finest windows folded so far) merged with the finest windows still open inside it.
   * With `onlyDirty`, only those changed since the last partial update.
   */
  private openView(i: number, onlyDirty: boolean): CandleWindow[] {
    const track = this.tracks[i] as IntervalWindows;
    if (!this.nested[i]) {
      const own: CandleWindow[] = [];
      for (const w of track.openWindows()) if (!onlyDirty || w.dirty) own.push(w);
      return own;
    }
    const fine = [...(this.tracks[0] as IntervalWindows).openWindows()];
    const starts: number[] = [];
    for (const w of track.openWindows()) if (!onlyDirty || w.dirty) starts.push(w.start);
    for (const f of fine) if (!onlyDirty || f.dirty) starts.push(track.startOf(f.start));
    const view: CandleWindow[] = [];
    for (const s of [...new Set(starts)].sort((a, b) => a - b)) {
      const merged = track.windowAt(s)?.clone() ?? new CandleWindow(s, track.endOf(s));
      for (const f of fine) if (f.start >= s && f.start < merged.end) merged.merge(f);
      if (merged.count > 0) view.push(merged);
    }
    return view;
  }

  /** @internal WindowListener */
  windowClosed(track: IntervalWindows, w: CandleWindow, inOrder: boolean): void {
    const out = this.out as ActorOutput;
    out.closed.push(w.toCandle(this.ctx, track.interval, true));
    this.counters.closedCandles++;
    if (w.count === 0) this.counters.emptyCandles++;
    if (!inOrder) return;
    const i = this.tracks.indexOf(track);
    if (i === 0 && w.count > 0) {
      for (let k = 1; k < this.tracks.length; k++) if (this.nested[k]) (this.tracks[k] as IntervalWindows).fold(w);
    }
    out.indicators.push((this.indicators[i] as RevisableIndicators).closed(w, this.ctx));
    const trend = this.trends[i];
    if (trend !== undefined) this.forecast(trend, track, w, out);
    if (i === this.detectorTrack) {
      const det = this.config.detectors;
      const p = this.priceSpike.observe(w, this.ctx, track.interval, det.priceSpike);
      if (p !== undefined) this.alert(p);
      const v = this.volumeSpike.observe(w, this.ctx, track.interval, det.volumeSpike);
      if (v !== undefined) this.alert(v);
    }
  }

  /** @internal WindowListener */
  windowRevised(track: IntervalWindows, w: CandleWindow): void {
    const out = this.out as ActorOutput;
    out.revised.push(w.toCandle(this.ctx, track.interval, true));
    this.counters.revisedCandles++;
    const i = this.tracks.indexOf(track);
    (this.indicators[i] as RevisableIndicators).revised(w, track.windows, this.ctx, out.indicators);
  }

  /** @internal WindowListener */
  windowDropped(track: IntervalWindows, w: CandleWindow): void {
    (this.indicators[this.tracks.indexOf(track)] as RevisableIndicators).dropped(w);
  }

  private forecast(trend: TrendModel, track: IntervalWindows, w: CandleWindow, out: ActorOutput): void {
    const size = this.ctx.sizeScale;
    const f = trend.observe({
      close: w.close / (POW10[this.ctx.priceScale] as number),
      volume: wideToReal(w.sums, VOLUME, size),
      buyVolume: wideToReal(w.sums, BUY_VOLUME, size),
    });
    // A forecast that is not a probability is not kept: PostgreSQL's check on p_up would refuse the
    // row and stop the partition for good (the model's inputs are clipped and it ends in a sigmoid,
    // so this only guards against a defect).
    if (f === undefined || !(f.pUp >= 0 && f.pUp <= 1)) return;
    out.predictions.push({
      exchange: this.exchange,
      symbol: this.symbol,
      market: this.market,
      interval: track.interval,
      openTime: w.start,
      targetOpenTime: w.end,
      pUp: f.pUp,
      baselines: f.baselines,
      scores: f.scores,
    });
  }

  private alert(a: Alert): void {
    (this.out as ActorOutput).alerts.push(a);
    this.counters.alerts++;
  }

  private reject(trade: Trade, reason: RejectedTradeReason, out: ActorOutput): TradeOutcome {
    this.counters.rejected++;
    out.rejected.push({ trade, reason });
    return 'rejected';
  }

  /** Past the allowed lateness in some interval: accepting it would leave the intervals inconsistent. */
  private tooLate(time: number, wm: number): boolean {
    const lateness = this.config.allowedLatenessMs;
    for (const track of this.tracks) {
      if (track.endOf(track.startOf(time)) + lateness <= wm) return true;
    }
    return false;
  }

  private refreshDeadline(): void {
    let d = Number.POSITIVE_INFINITY;
    for (const track of this.tracks) {
      const c = track.endOf(track.nextClose);
      if (c < d) d = c;
    }
    this.deadline = d;
  }

  private closeWindows(cutAs = this.wm): void {
    const lateness = this.config.allowedLatenessMs;
    const limit = this.config.emptyCandleLimit;
    for (const track of this.tracks)
      this.counters.skippedEmptyCandles += track.closeUntil(this.wm, lateness, this, limit, cutAs);
    this.refreshDeadline();
    this.pruneIds();
  }

  /** Forgets ids no retained window of the finest interval can hold (see TradeIdSet). */
  private pruneIds(): void {
    const finest = this.tracks[0] as IntervalWindows;
    let floor = Number.POSITIVE_INFINITY;
    let floorTime = Number.POSITIVE_INFINITY;
    for (const w of finest.windows) {
      if (w.minIdNum < floor) floor = w.minIdNum;
      if (w.start < floorTime) floorTime = w.start;
    }
    this.ids.prune(floor, floorTime);
  }

  private emitPartials(now: number): void {
    const out = this.out as ActorOutput;
    let emitted = 0;
    const tracks = this.tracks;
    // Coarser views first: they read the finest windows' dirty flags, which the finest clears.
    for (let i = tracks.length - 1; i >= 0; i--) {
      const track = tracks[i] as IntervalWindows;
      for (const w of this.openView(i, true)) {
        out.partial.push(w.toCandle(this.ctx, track.interval, false));
        emitted++;
      }
    }
    for (const track of tracks) for (const w of track.openWindows()) w.dirty = false;
    if (emitted > 0) {
      this.counters.partialCandles += emitted;
      this.lastPartialAt = now;
    }
    this.partialPending = false;
  }

  private growPriceScale(scale: number): boolean {
    const k = scale - this.ctx.priceScale;
    const factor = POW10[k] as number;
    if (scale > MAX_SCALE || this.maxPrice * factor > MAX_SAFE) return false;
    // A finer scale multiplies the window's wide quote sums too; past 2^105 they no longer fit.
    for (const track of this.tracks) for (const w of track.windows) if (!w.canRescalePrice(k)) return false;
    for (const track of this.tracks) {
      for (const w of track.windows) w.rescalePrice(k, factor);
      track.lastClose *= factor;
    }
    for (const ind of this.indicators) ind.rescalePrice(factor);
    this.priceSpike.rescalePrice(factor);
    this.maxPrice *= factor;
    this.ctx.priceScale = scale;
    return true;
  }

  private growSizeScale(scale: number): boolean {
    const k = scale - this.ctx.sizeScale;
    if (scale > MAX_SCALE) return false;
    for (const track of this.tracks) for (const w of track.windows) if (!w.canRescaleSize(k)) return false;
    for (const track of this.tracks) for (const w of track.windows) w.rescaleSize(k);
    this.ctx.sizeScale = scale;
    return true;
  }

  /**
   * The actor's whole state as compact bytes (docs/CANDLES.md, "Checkpoint format"). Taken
   * between calls; restoring it with the same config resumes exactly.
   */
  snapshot(): Uint8Array {
    const w = new StateWriter();
    writeHeader(w, this, this.config.intervals);
    w.uint(this.ctx.priceScale);
    w.uint(this.ctx.sizeScale);
    w.time(this.maxEventTime);
    w.time(this.wm);
    w.time(this.lastPartialAt);
    w.bool(this.partialPending);
    w.uint(this.maxPrice);
    writeCounters(w, this.counters);
    for (let i = 0; i < this.tracks.length; i++) {
      (this.tracks[i] as IntervalWindows).writeState(w);
      (this.indicators[i] as RevisableIndicators).writeCurrent(w);
    }
    this.priceSpike.writeState(w);
    this.volumeSpike.writeState(w);
    this.stale.writeState(w);
    this.ids.writeState(w);
    w.uint(this.trends.length);
    for (const t of this.trends) t.write(w);
    for (const ind of this.indicators) ind.writeBase(w);
    return w.finish();
  }

  /**
   * An actor from snapshot() bytes. The config must have the same intervals and indicator and
   * baseline look-backs as the one the snapshot was taken with (thresholds may differ);
   * anything else is a ConfigError.
   */
  static restore(bytes: Uint8Array, config: ActorConfig): MarketActor {
    const r = new StateReader(bytes);
    const { version, identity } = readHeader(r, config);
    const a = new MarketActor(identity, config);
    a.ctx.priceScale = r.uint();
    a.ctx.sizeScale = r.uint();
    a.maxEventTime = r.time();
    a.wm = r.time();
    a.lastPartialAt = r.time();
    a.partialPending = r.bool();
    a.maxPrice = r.uint();
    readCounters(r, a.counters, version);
    for (let i = 0; i < a.tracks.length; i++) {
      (a.tracks[i] as IntervalWindows).readState(r);
      (a.indicators[i] as RevisableIndicators).readCurrent(r);
    }
    a.priceSpike.readState(r);
    a.volumeSpike.readState(r);
    a.stale.readState(r);
    a.ids = TradeIdSet.readState(r);
    const trends = version >= 3 ? r.uint() : 0;
    if (trends > 0) {
      if (trends !== a.tracks.length) throw new ConfigError('actor checkpoint trend models differ from the intervals');
      const read: TrendModel[] = [];
      for (let i = 0; i < trends; i++) read.push(TrendModel.read(r, config.trend));
      // A model checkpointed while enabled and restored while disabled is dropped.
      if (config.trend.enabled) a.trends = read;
    }
    for (let i = 0; i < a.tracks.length; i++) {
      const ind = a.indicators[i] as RevisableIndicators;
      if (version >= 4) ind.readBase(r, a.tracks[i] as IntervalWindows, a.ctx);
      else ind.startBaseAt((a.tracks[i] as IntervalWindows).nextClose, (a.tracks[i] as IntervalWindows).firstStart);
    }
    readEnd(r);
    a.refreshDeadline();
    return a;
  }
}
