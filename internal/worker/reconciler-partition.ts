import type { Candle } from '../market/candle.js';
import type { Interval } from '../market/interval.js';
import { venueConvention } from '../verify/conventions.js';
import type { KlineRecord } from '../verify/kline-record.js';
import { Reconciler, type Reconciliation } from '../verify/reconciler.js';
import { type VerificationEvent, verificationOf } from '../verify/verification.js';
import { encodeReconcilerState } from './reconciler-state.js';

export interface ReconcilerPartitionOptions {
  /** Intervals judged; candles and pushes of the others are ignored. */
  readonly intervals: readonly Interval[];
  readonly waitMs: number;
  readonly settleMs: number;
  /** Windows held per market and interval, in each reconciler and in the checkpoint state. */
  readonly maxWindows: number;
  /**
   * A market with neither a candle nor a push for this long is forgotten (its windows, its pending
   * pushes): an idle or evicted market does not hold memory. Default an hour.
   */
  readonly forgetIdleMs?: number;
}

const FORGET_IDLE_MS = 3_600_000;

/** What one commit of the partition writes, captured at one point of its klines' order. */
export interface ReconcilerCapture {
  readonly nextOffset: bigint;
  readonly state: Uint8Array;
  readonly verifications: readonly VerificationEvent[];
}

const seriesKey = (exchange: string, market: string, interval: string) => `${exchange}\u0000${market}\u0000${interval}`;

/**
 * One partition's reconcilers (one per venue, internal/verify/reconciler.ts) and what its next
 * commit writes: the judgements made since the last one (the latest per candle) and the state a
 * restart needs, the pushes of the windows not yet judged with them. No clock and no I/O: time
 * comes in as arguments, the host (reconciler-host.ts) reads and commits.
 */
export class ReconcilerPartition {
  private readonly reconcilers = new Map<string, Reconciler>();
  /** The symbol of each (exchange, market), from the candles: a Reconciliation names the market only. */
  private readonly symbols = new Map<string, string>();
  /** Per series, the latest push of each window not yet judged with it (the checkpoint state). */
  private readonly held = new Map<string, Map<number, KlineRecord>>();
  private readonly pending = new Map<string, VerificationEvent>();
  private changed = false;
  /** Pushes dropped as too late, per venue, not yet counted in the metric. */
  private readonly droppedSeen = new Map<string, number>();
  /** When each (exchange, market) last had a candle or a push, by the clock passed in. */
  private readonly lastSeen = new Map<string, number>();
  private lastForget = Number.NEGATIVE_INFINITY;

  constructor(
    readonly partition: number,
    private readonly options: ReconcilerPartitionOptions,
    /** The offset after the last klines record read (the next commit's offset). */
    public nextOffset: bigint,
  ) {}

  /** Whether this record's venue and interval are judged here. */
  judges(exchange: string, interval: Interval): boolean {
    return this.options.intervals.includes(interval) && venueConvention(exchange) !== undefined;
  }

  /** A klines record at `offset` (undefined for a restored push, already behind the offset). */
  push(r: KlineRecord, now: number, offset?: bigint): void {
    if (offset !== undefined) {
      if (offset < this.nextOffset) return;
      this.nextOffset = offset + 1n;
      this.changed = true;
    }
    if (!this.judges(r.exchange, r.interval)) return;
    this.lastSeen.set(`${r.exchange}\u0000${r.market}`, now);
    const key = seriesKey(r.exchange, r.market, r.interval);
    let windows = this.held.get(key);
    if (windows === undefined) {
      windows = new Map();
      this.held.set(key, windows);
    }
    const before = windows.get(r.kline.openTime);
    if (!(before?.final === true && r.final !== true)) {
      windows.set(r.kline.openTime, r);
      if (windows.size > this.options.maxWindows) windows.delete(Math.min(...windows.keys()));
      this.changed = true;
    }
    this.record(r.exchange, this.reconciler(r.exchange).push(r, now), now);
  }

  /** Candles a checkpoint of the partition committed (or read back from the store at a restore). */
  candles(candles: readonly Candle[], now: number): void {
    for (const c of candles) {
      if (!c.closed || !this.judges(c.exchange, c.interval)) continue;
      this.symbols.set(`${c.exchange}\u0000${c.market}`, c.symbol);
      this.lastSeen.set(`${c.exchange}\u0000${c.market}`, now);
      this.record(c.exchange, this.reconciler(c.exchange).candle(c, now), now);
    }
  }

  /** Judges what time alone decides (settled klines, klines that never came). */
  tick(now: number): void {
    for (const [exchange, r] of this.reconcilers) this.record(exchange, r.tick(now), now);
    const idleMs = this.options.forgetIdleMs ?? FORGET_IDLE_MS;
    if (now - this.lastForget < idleMs / 10) return;
    this.lastForget = now;
    for (const [key, seen] of this.lastSeen) {
      if (now - seen < idleMs) continue;
      const [exchange, market] = key.split('\u0000') as [string, string];
      this.reconcilers.get(exchange)?.forget(market);
      for (const series of this.held.keys()) {
        if (series.startsWith(`${key}\u0000`)) {
          this.held.delete(series);
          this.changed = true;
        }
      }
      this.symbols.delete(key);
      this.lastSeen.delete(key);
    }
  }

  /** Markets held (for tests and bounds). */
  get markets(): number {
    return this.lastSeen.size;
  }

  /** Pushes each venue dropped as too late since the last call. */
  takeDropped(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [exchange, r] of this.reconcilers) {
      const seen = this.droppedSeen.get(exchange) ?? 0;
      if (r.dropped > seen) out.set(exchange, r.dropped - seen);
      this.droppedSeen.set(exchange, r.dropped);
    }
    return out;
  }

  /** Whether a commit would write anything. */
  get dirty(): boolean {
    return this.changed || this.pending.size > 0;
  }

  /** What the next commit writes; the judgements are handed over (give them back with `untake` on failure). */
  take(): ReconcilerCapture {
    const verifications = [...this.pending.values()];
    this.pending.clear();
    this.changed = false;
    const pushes: KlineRecord[] = [];
    for (const windows of this.held.values()) pushes.push(...windows.values());
    return { nextOffset: this.nextOffset, state: encodeReconcilerState(pushes), verifications };
  }

  /** A commit that failed: its judgements wait for the next one (unless a newer one of the candle came). */
  untake(c: ReconcilerCapture): void {
    for (const v of c.verifications) {
      const key = `${v.exchange}\u0000${v.symbol}\u0000${v.interval}\u0000${v.openTime}`;
      if (!this.pending.has(key)) this.pending.set(key, v);
    }
    this.changed = true;
  }

  private reconciler(exchange: string): Reconciler {
    let r = this.reconcilers.get(exchange);
    if (r === undefined) {
      const convention = venueConvention(exchange);
      if (convention === undefined) throw new RangeError(`no convention for ${exchange}`);
      r = new Reconciler({ convention, ...this.options });
      this.reconcilers.set(exchange, r);
    }
    return r;
  }

  private record(exchange: string, rs: readonly Reconciliation[], now: number): void {
    for (const x of rs) {
      const symbol = this.symbols.get(`${exchange}\u0000${x.market}`);
      if (symbol === undefined) continue;
      const key = `${exchange}\u0000${symbol}\u0000${x.interval}\u0000${x.openTime}`;
      this.pending.set(key, {
        exchange,
        symbol,
        interval: x.interval,
        openTime: x.openTime,
        ...verificationOf(x.verdict, x.revision, now),
      });
      // Judged with the venue's kline: a restart need not bring the push back.
      if (x.verdict.status !== 'unverifiable') {
        this.held.get(seriesKey(exchange, x.market, x.interval))?.delete(x.openTime);
        this.changed = true;
      }
    }
  }
}
