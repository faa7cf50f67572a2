import type { Alert } from '../market/alert.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import { candleIsNewer } from '../sink/cache.js';
import type { StoredCandle } from '../sink/verification-store.js';
import type { VerificationEvent } from '../verify/verification.js';

/** A cross-venue index value as the index actors publish it (internal/actor/index-actor.ts). */
export interface IndexUpdate {
  readonly asset: string;
  readonly price: number;
  readonly time: number;
}

/**
 * Drops what a client has already been sent. Bus outputs are at least once (a worker that
 * replays after a crash republishes), so each update is judged by its identity: a candle by
 * its key and (revision, closed, trade count, then its judgement's checkedAt), an alert by its
 * id, indicators by their candle's key, a judgement by its candle's key and (revision,
 * checkedAt), an index value by (asset, time, price). Only a candle strictly newer than the
 * last one sent under its key passes, so a repeat, or a partial update overtaken by a later
 * one, is dropped.
 *
 * Memory is bounded: past `capacity` keys the least recently updated are forgotten, and a
 * repeat of a forgotten key passes again (an old, harmless repeat rather than unbounded memory).
 */
export class SeenFilter {
  private readonly candles = new Map<string, StoredCandle>();
  private readonly alerts = new Map<string, true>();
  private readonly index = new Map<string, IndexUpdate>();
  private readonly indicators = new Map<string, true>();
  private readonly verifications = new Map<string, VerificationEvent>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /**
   * Whether `c` is new to this client; records it when it is. A closed candle re-published with
   * its judgement (`verification`, docs/API.md) is new when it is of the revision sent last and
   * its judgement is later than the one sent with it, if any.
   */
  candle(c: StoredCandle): boolean {
    const key = `${c.exchange}:${c.symbol}:${c.interval}:${c.openTime}`;
    const prev = this.candles.get(key);
    if (prev && !candleIsNewer(c, prev) && !judgedSince(c, prev)) return false;
    remember(this.candles, key, c, this.capacity);
    return true;
  }

  alert(a: Alert): boolean {
    if (this.alerts.has(a.id)) return false;
    remember(this.alerts, a.id, true, this.capacity);
    return true;
  }

  /** A closed candle's indicators, by the candle's key: computed once, so any repeat is a replay. */
  indicator(v: IndicatorValues): boolean {
    const key = `${v.exchange}:${v.symbol}:${v.interval}:${v.openTime}`;
    if (this.indicators.has(key)) return false;
    remember(this.indicators, key, true, this.capacity);
    return true;
  }

  /**
   * A judgement of a closed candle, by the candle's key: one of a later revision, or a later
   * judgement of the same revision, is new; a repeat or an older one is not.
   */
  verification(v: VerificationEvent): boolean {
    const key = `${v.exchange}:${v.symbol}:${v.interval}:${v.openTime}`;
    const prev = this.verifications.get(key);
    if (prev && (v.revision < prev.revision || (v.revision === prev.revision && v.checkedAt <= prev.checkedAt))) {
      return false;
    }
    remember(this.verifications, key, v, this.capacity);
    return true;
  }

  indexValue(v: IndexUpdate): boolean {
    const prev = this.index.get(v.asset);
    if (prev && (v.time < prev.time || (v.time === prev.time && v.price === prev.price))) return false;
    remember(this.index, v.asset, v, this.capacity);
    return true;
  }

  clear(): void {
    this.candles.clear();
    this.alerts.clear();
    this.index.clear();
    this.indicators.clear();
    this.verifications.clear();
  }
}

/** `c` is `prev`'s revision with a judgement made after `prev`'s (or `prev` had none). */
function judgedSince(c: StoredCandle, prev: StoredCandle): boolean {
  const v = c.verification;
  if (v === undefined || v.revision !== c.revision || c.revision !== prev.revision || !c.closed) return false;
  return prev.verification === undefined || v.checkedAt > prev.verification.checkedAt;
}

/** Sets `key` as the most recent entry (Map order is insertion order) and evicts the oldest past `capacity`. */
function remember<V>(map: Map<string, V>, key: string, value: V, capacity: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > capacity) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}
