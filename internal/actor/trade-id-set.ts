import type { StateReader, StateWriter } from './state-codec.js';

/**
 * The trade ids a market has seen, for duplicate suppression, in bounded memory.
 *
 * Numeric ids (decimal integers below 2^53: Binance, Coinbase, OKX, Kraken) are kept as
 * disjoint inclusive ranges, so a venue that numbers its trades consecutively costs one range
 * however many trades pass. Other ids are kept in a map with their event time.
 *
 * Forgetting is driven by the windows: an id below the smallest id of every window still open
 * or within the allowed lateness, or a non-numeric id older than the oldest such window,
 * belongs to a trade that can no longer change a candle (a repeat of it is past the lateness
 * and goes to the late output instead of being counted twice).
 *
 * Resets: a venue that restarts its numbering sends ids the set already holds. The actor tells
 * them from repeats by event time (a repeat is never dated after every trade accepted) and calls
 * restartFrom / renewString, so that the new numbering is counted instead of dropped.
 */
export class TradeIdSet {
  /** [lo0, hi0, lo1, hi1, ...], sorted, disjoint and not adjacent. */
  private ranges: number[] = [];
  private readonly strings = new Map<string, number>();

  /** Adds a numeric id; false if it was already there. */
  addNumber(n: number): boolean {
    const r = this.ranges;
    const last = r.length - 1;
    if (last < 0) {
      r.push(n, n);
      return true;
    }
    const hi = r[last] as number;
    if (n === hi + 1) {
      r[last] = n;
      return true;
    }
    if (n > hi) {
      r.push(n, n);
      return true;
    }
    return this.insert(n);
  }

  /** The largest numeric id held, or NaN when none is. */
  get maxNumber(): number {
    const r = this.ranges;
    return r.length === 0 ? Number.NaN : (r[r.length - 1] as number);
  }

  hasNumber(n: number): boolean {
    const i = this.rangeAtOrBefore(n);
    return i >= 0 && n <= (this.ranges[i + 1] as number);
  }

  /** Adds a non-numeric id seen at `time`; false if it was already there. */
  addString(id: string, time: number): boolean {
    if (this.strings.has(id)) return false;
    this.strings.set(id, time);
    return true;
  }

  /**
   * The venue restarted its numbering at `n`: forgets every id from `n` up (the old numbering's,
   * which the new one will reach again) and adds `n`. Ids below `n` stay.
   */
  restartFrom(n: number): void {
    const r = this.ranges;
    const i = this.rangeAtOrBefore(n);
    if (i >= 0 && (r[i + 1] as number) >= n) {
      if ((r[i] as number) === n) r.length = i;
      else {
        r[i + 1] = n - 1;
        r.length = i + 2;
      }
    } else r.length = i < 0 ? 0 : i + 2;
    this.addNumber(n);
  }

  /** A string id seen again, as a new trade at `time` (a reset: see restartFrom). */
  renewString(id: string, time: number): void {
    this.strings.set(id, time);
  }

  /** Forgets numeric ids below `floor` (whole ranges only) and string ids older than `floorTime`. */
  prune(floor: number, floorTime: number): void {
    const r = this.ranges;
    let k = 0;
    while (k < r.length && (r[k + 1] as number) < floor) k += 2;
    if (k > 0) r.splice(0, k);
    if (this.strings.size > 0) {
      for (const [id, time] of this.strings) if (time < floorTime) this.strings.delete(id);
    }
  }

  get rangeCount(): number {
    return this.ranges.length / 2;
  }

  get stringCount(): number {
    return this.strings.size;
  }

  /** The ranges (each bound as the gap from the previous one) and the string ids, for the checkpoint. */
  writeState(w: StateWriter): void {
    w.uint(this.ranges.length);
    let prev = 0;
    for (const v of this.ranges) {
      w.uint(v - prev);
      prev = v;
    }
    w.uint(this.strings.size);
    for (const [id, time] of this.strings) {
      w.str(id);
      w.int(time);
    }
  }

  static readState(r: StateReader): TradeIdSet {
    const set = new TradeIdSet();
    const ranges: number[] = new Array(r.uint());
    let prev = 0;
    for (let i = 0; i < ranges.length; i++) {
      prev += r.uint();
      ranges[i] = prev;
    }
    set.ranges = ranges;
    const n = r.uint();
    for (let i = 0; i < n; i++) set.strings.set(r.str(), r.int());
    return set;
  }

  /** Index (even) of the last range with lo <= n, or -1. */
  private rangeAtOrBefore(n: number): number {
    const r = this.ranges;
    let lo = 0;
    let hi = r.length / 2 - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((r[mid * 2] as number) <= n) {
        found = mid * 2;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private insert(n: number): boolean {
    const r = this.ranges;
    const i = this.rangeAtOrBefore(n);
    if (i >= 0 && n <= (r[i + 1] as number)) return false;
    const joinsPrev = i >= 0 && (r[i + 1] as number) + 1 === n;
    const next = i < 0 ? 0 : i + 2;
    const joinsNext = next < r.length && (r[next] as number) - 1 === n;
    if (joinsPrev && joinsNext) {
      r[i + 1] = r[next + 1] as number;
      r.splice(next, 2);
    } else if (joinsPrev) {
      r[i + 1] = n;
    } else if (joinsNext) {
      r[next] = n;
    } else {
      r.splice(next, 0, n, n);
    }
    return true;
  }
}
