/**
 * Per-market trade id bookkeeping: what decides that a trade is new, a duplicate (the overlap
 * around a reconnect) or the first after a gap.
 *
 * Sequential venues (consecutive integer ids per market) keep the last id: a lower or equal id is
 * a duplicate, a jump is a gap. A trade may span several ids (OKX's trades channel sends one
 * message per taker order and price, its id the last of `count` consecutive ones): its first id
 * is then the one that must follow the last. Other venues keep a window of recent ids and only deduplicate.
 * State lives in memory: after an ingest restart the first trade of each market starts afresh
 * (the worker still counts a trade seen twice once: BRIEF.md, windows).
 */
export type Verdict =
  | { readonly kind: 'new' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'gap'; readonly fromId: number; readonly toId: number }
  | { readonly kind: 'bad-id' };

const NEW: Verdict = Object.freeze({ kind: 'new' });
const DUPLICATE: Verdict = Object.freeze({ kind: 'duplicate' });
const BAD_ID: Verdict = Object.freeze({ kind: 'bad-id' });

/** One market's bookkeeping, got once and kept by callers on the per-trade path. */
export interface Lane {
  /** Classifies `tradeId`, the last of `span` consecutive ids (default 1), without recording it. */
  check(tradeId: string, span?: number): Verdict;
  /** Records `tradeId` as produced. */
  accept(tradeId: string): void;
}

/** Consecutive integer ids: a lower or equal id is a duplicate, a jump is a gap. */
class SequentialLane implements Lane {
  private last: number | undefined;

  check(tradeId: string, span = 1): Verdict {
    const id = Number(tradeId);
    if (!Number.isSafeInteger(id) || id < 0) return BAD_ID;
    const last = this.last;
    const first = id - span + 1;
    if (last === undefined || first === last + 1) return NEW;
    if (id <= last) return DUPLICATE;
    // A span that starts inside what was produced and ends after it: nothing is missing.
    if (first <= last) return NEW;
    return { kind: 'gap', fromId: last + 1, toId: first - 1 };
  }

  accept(tradeId: string): void {
    this.last = Number(tradeId);
  }
}

/** Ids without an order: a window of the most recent ones, to drop repeats. */
class WindowLane implements Lane {
  private readonly ids = new Set<string>();
  private readonly ring: Array<string | undefined>;
  private next = 0;

  constructor(size: number) {
    this.ring = new Array(size);
  }

  check(tradeId: string): Verdict {
    return this.ids.has(tradeId) ? DUPLICATE : NEW;
  }

  accept(tradeId: string): void {
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.ids.delete(evicted);
    this.ring[this.next] = tradeId;
    this.ids.add(tradeId);
    this.next = (this.next + 1) % this.ring.length;
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

  /** Classifies `tradeId` for `key` without recording it. */
  check(key: string, tradeId: string): Verdict {
    return this.lane(key).check(tradeId);
  }

  /** Records `tradeId` as produced. */
  accept(key: string, tradeId: string): void {
    this.lane(key).accept(tradeId);
  }
}
