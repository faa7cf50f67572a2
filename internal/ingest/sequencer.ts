import { isIdReset } from '../market/trade-fields.js';

/**
 * Per-market trade id bookkeeping: what decides that a trade is new, a duplicate (the overlap
 * around a reconnect), the first after a gap, or the first after the venue reset its ids.
 *
 * Sequential venues (consecutive integer ids per market) keep the last id: a lower or equal id is
 * a duplicate (or a reset), a jump is a gap. A trade may span several ids (OKX's trades channel
 * sends one message per taker order and price, its id the last of `count` consecutive ones): its
 * first id is then the one that must follow the last. Other venues keep a window of recent ids and
 * only deduplicate. State lives in memory; a restarted process seeds it from the log (resume.ts).
 *
 * Resets: an exchange may restart a market's numbering (a migration, a testnet wipe). Every new
 * id would then be at or below the last one and count as a duplicate until the ids passed the
 * old maximum, dropping the market silently. The rule that tells the two apart: a repeat is a
 * trade already accepted, so its event time is at most the newest event time accepted for the
 * market. An id that would be a repeat but is dated later than every trade accepted (with the
 * margins of isIdReset, trade-fields.ts) cannot be one: it is a reset (verdict `reset`), and the
 * lane starts over from it.
 */
export type Verdict =
  | { readonly kind: 'new' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'gap'; readonly fromId: number; readonly toId: number }
  | { readonly kind: 'reset' }
  | { readonly kind: 'bad-id' };

const NEW: Verdict = Object.freeze({ kind: 'new' });
const DUPLICATE: Verdict = Object.freeze({ kind: 'duplicate' });
const RESET: Verdict = Object.freeze({ kind: 'reset' });
const BAD_ID: Verdict = Object.freeze({ kind: 'bad-id' });

/** One market's bookkeeping, got once and kept by callers on the per-trade path. */
export interface Lane {
  /**
   * Classifies `tradeId`, a trade at `eventTime` and the last of `span` consecutive ids
   * (default 1), without recording it.
   */
  check(tradeId: string, eventTime: number, span?: number): Verdict;
  /** Records `tradeId` as produced (after a `reset` verdict: as the first id of the new numbering). */
  accept(tradeId: string, eventTime: number): void;
  /** The last id accepted, for reports; undefined before the first. */
  readonly lastId: string | undefined;
}

/** Consecutive integer ids: a lower or equal id is a duplicate (or a reset), a jump is a gap. */
class SequentialLane implements Lane {
  private last: number | undefined;
  private newestTime = Number.NEGATIVE_INFINITY;
  /**
   * After a reset: the last id of the old numbering and the event time of the first trade of the
   * new one. An id of the old numbering that comes again (a reconnect's overlap) is above the new
   * ids, where it would look like a gap: dated before the reset, it is a repeat. Forgotten once
   * the new ids pass it.
   */
  private oldLast: number | undefined;
  private resetTime = Number.NEGATIVE_INFINITY;

  get lastId(): string | undefined {
    return this.last === undefined ? undefined : String(this.last);
  }

  check(tradeId: string, eventTime: number, span = 1): Verdict {
    const id = Number(tradeId);
    if (!Number.isSafeInteger(id) || id < 0) return BAD_ID;
    const last = this.last;
    if (last === undefined) return NEW;
    if (id <= last) return isIdReset(last - id, eventTime, this.newestTime) ? RESET : DUPLICATE;
    if (this.oldLast !== undefined && id <= this.oldLast && eventTime < this.resetTime) return DUPLICATE;
    const first = id - span + 1;
    // The next id, or a span that starts inside what was produced and ends after it: nothing is missing.
    if (first <= last + 1) return NEW;
    return { kind: 'gap', fromId: last + 1, toId: first - 1 };
  }

  accept(tradeId: string, eventTime: number): void {
    const id = Number(tradeId);
    const last = this.last;
    if (last !== undefined && id <= last) {
      this.oldLast = Math.max(this.oldLast ?? last, last);
      this.resetTime = eventTime;
    } else if (this.oldLast !== undefined && id > this.oldLast) this.oldLast = undefined;
    this.last = id;
    if (eventTime > this.newestTime) this.newestTime = eventTime;
  }
}

/** Ids without an order: a window of the most recent ones, to drop repeats. */
class WindowLane implements Lane {
  private readonly ids = new Set<string>();
  private readonly ring: Array<string | undefined>;
  private next = 0;
  private newestTime = Number.NEGATIVE_INFINITY;
  lastId: string | undefined;

  constructor(size: number) {
    this.ring = new Array(size);
  }

  check(tradeId: string, eventTime: number): Verdict {
    if (!this.ids.has(tradeId)) return NEW;
    return isIdReset(Number.NaN, eventTime, this.newestTime) ? RESET : DUPLICATE;
  }

  accept(tradeId: string, eventTime: number): void {
    if (this.ids.has(tradeId) && isIdReset(Number.NaN, eventTime, this.newestTime)) {
      // A reset: the ids of the old numbering would collide with the new one's.
      this.ids.clear();
      this.ring.fill(undefined);
      this.next = 0;
    }
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.ids.delete(evicted);
    this.ring[this.next] = tradeId;
    this.ids.add(tradeId);
    this.next = (this.next + 1) % this.ring.length;
    this.lastId = tradeId;
    if (eventTime > this.newestTime) this.newestTime = eventTime;
  }
}

export class Sequencer {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    readonly sequential: boolean,
    private readonly windowSize = 10_000,
  ) {}

  /** The lane of `key` (exchange:symbol), made on first use. */
  lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = this.sequential ? new SequentialLane() : new WindowLane(this.windowSize);
      this.lanes.set(key, lane);
    }
    return lane;
  }

  /** Classifies `tradeId`, a trade at `eventTime`, for `key` without recording it. */
  check(key: string, tradeId: string, eventTime: number): Verdict {
    return this.lane(key).check(tradeId, eventTime);
  }

  /** Records `tradeId` as produced. */
  accept(key: string, tradeId: string, eventTime: number): void {
    this.lane(key).accept(tradeId, eventTime);
  }
}
