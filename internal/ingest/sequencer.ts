/**
 * Per-market trade id bookkeeping: what decides that a trade is new, a duplicate (the overlap
 * around a reconnect) or the first after a gap.
 *
 * Sequential venues (consecutive integer ids per market) keep the last id: a lower or equal id is
 * a duplicate, a jump is a gap. Other venues keep a window of recent ids and only deduplicate.
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

interface Window {
  readonly ids: Set<string>;
  readonly ring: string[];
  next: number;
}

export class Sequencer {
  private readonly last = new Map<string, number>();
  private readonly windows = new Map<string, Window>();

  constructor(
    readonly sequential: boolean,
    private readonly windowSize = 10_000,
  ) {}

  /** Classifies `tradeId` for `key` (exchange:symbol) without recording it. */
  check(key: string, tradeId: string): Verdict {
    if (!this.sequential) return this.windows.get(key)?.ids.has(tradeId) ? DUPLICATE : NEW;
    const id = Number(tradeId);
    if (!Number.isSafeInteger(id) || id < 0) return BAD_ID;
    const last = this.last.get(key);
    if (last === undefined || id === last + 1) return NEW;
    if (id <= last) return DUPLICATE;
    return { kind: 'gap', fromId: last + 1, toId: id - 1 };
  }

  /** Records `tradeId` as produced. */
  accept(key: string, tradeId: string): void {
    if (this.sequential) {
      this.last.set(key, Number(tradeId));
      return;
    }
    let w = this.windows.get(key);
    if (!w) {
      w = { ids: new Set(), ring: new Array(this.windowSize), next: 0 };
      this.windows.set(key, w);
    }
    const evicted = w.ring[w.next];
    if (evicted !== undefined) w.ids.delete(evicted);
    w.ring[w.next] = tradeId;
    w.ids.add(tradeId);
    w.next = (w.next + 1) % this.windowSize;
  }

  lastId(key: string): number | undefined {
    return this.last.get(key);
  }
}
