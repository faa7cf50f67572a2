import type { Move, MoveReason, PartitionOwner, Placement } from './placement.js';

/**
 * The steps of one placement round (placement.ts puts them in order): orphans, count targets,
 * surplus, filling the targets, load refinement, epochs. Each is a pure function of its
 * arguments; the steps in between share one Ledger, which they change, and nothing else.
 */

export const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Scale of a round's load arithmetic. */
export interface LoadScale {
  /** Total weight over the number of live members. */
  readonly meanLoad: number;
  /** Loads closer than this are equal (float sums in different orders differ by rounding). */
  readonly epsilon: number;
}

export function loadScale(weights: readonly number[], memberCount: number): LoadScale {
  const totalLoad = weights.reduce((a, b) => a + b, 0);
  return { meanLoad: totalLoad / memberCount, epsilon: 1e-9 * Math.max(totalLoad, 1) };
}

/**
 * The assignment a round works on: the owner of each partition, each live member's partitions
 * and load, and why each partition moved. A partition taken from a member (surplus) keeps its
 * old owner in `owner` until it is given to another.
 */
export class Ledger {
  readonly members: readonly string[];
  readonly weights: readonly number[];
  readonly owner: (string | null)[];
  readonly reason = new Map<number, MoveReason>();
  private readonly owned: Map<string, Set<number>>;
  private readonly load: Map<string, number>;

  constructor(members: readonly string[], weights: readonly number[], owner: readonly (string | null)[]) {
    this.members = members;
    this.weights = weights;
    this.owner = [...owner];
    this.owned = new Map(members.map((m) => [m, new Set<number>()]));
    this.load = new Map(members.map((m) => [m, 0]));
  }

  count(m: string): number {
    return this.owned.get(m)!.size;
  }

  loadOf(m: string): number {
    return this.load.get(m)!;
  }

  partitionsOf(m: string): ReadonlySet<number> {
    return this.owned.get(m)!;
  }

  /** Gives partition p to live member m. */
  add(p: number, m: string): void {
    this.owned.get(m)!.add(p);
    this.load.set(m, this.loadOf(m) + this.weights[p]!);
    this.owner[p] = m;
  }

  /** Takes partition p from live member m (its `owner` entry stays until it is added elsewhere). */
  remove(p: number, m: string): void {
    this.owned.get(m)!.delete(p);
    this.load.set(m, this.loadOf(m) - this.weights[p]!);
  }
}

/**
 * Step 1: a ledger of the partitions the live members keep, and the orphans: partitions whose
 * owner is gone or that never had one, in partition order.
 */
export function collectOrphans(
  members: readonly string[],
  weights: readonly number[],
  owner: readonly (string | null)[],
): { ledger: Ledger; orphans: number[] } {
  const ledger = new Ledger(members, weights, owner);
  const live = new Set(members);
  const orphans: number[] = [];
  for (let p = 0; p < owner.length; p++) {
    const o = owner[p];
    if (o !== null && o !== undefined && live.has(o)) ledger.add(p, o);
    else orphans.push(p);
  }
  for (const p of orphans) ledger.reason.set(p, 'orphan');
  return { ledger, orphans };
}

/**
 * Step 2: each member's partition count, floor(P/N) or one more. Members that already hold more
 * than the floor keep one extra first (that is what minimizes moves); then the emptiest members
 * (new ones) take the remaining extras, so that a join sends partitions to the new member only.
 * Load breaks ties.
 */
export function countTargets(ledger: Ledger, partitionCount: number): Map<string, number> {
  const { members } = ledger;
  const q = Math.floor(partitionCount / members.length);
  const r = partitionCount % members.length;
  const count = (m: string) => ledger.count(m);
  const loadOf = (m: string) => ledger.loadOf(m);
  const over = members.filter((m) => count(m) > q).sort((a, b) => loadOf(a) - loadOf(b) || byName(a, b));
  const under = members
    .filter((m) => count(m) <= q)
    .sort((a, b) => count(a) - count(b) || loadOf(a) - loadOf(b) || byName(a, b));
  const target = new Map<string, number>();
  for (const [i, m] of [...over, ...under].entries()) target.set(m, i < r ? q + 1 : q);
  return target;
}

/**
 * Step 3: members above their target give up their surplus, at most `budget` partitions, one at
 * a time from the member with the largest remaining surplus, so that a rate-limited round
 * spreads the work. A member gives the partition that brings its load closest to the mean.
 * Returns the partitions given, in order, and the surplus left for later rounds.
 */
export function takeSurplus(
  ledger: Ledger,
  target: ReadonlyMap<string, number>,
  scale: LoadScale,
  budget: number,
): { given: number[]; left: number } {
  const { members, weights } = ledger;
  const { meanLoad, epsilon } = scale;
  const surplus = new Map<string, number>(members.map((m) => [m, Math.max(0, ledger.count(m) - target.get(m)!)]));
  let left = [...surplus.values()].reduce((a, b) => a + b, 0);
  const given: number[] = [];
  while (left > 0 && given.length < budget) {
    let donor = members[0]!;
    for (const m of members) {
      const s = surplus.get(m)!;
      const best = surplus.get(donor)!;
      if (s > best || (s === best && s > 0 && ledger.loadOf(m) > ledger.loadOf(donor))) donor = m;
    }
    let pick = -1;
    let pickScore = Number.POSITIVE_INFINITY;
    for (const p of ledger.partitionsOf(donor)) {
      const score = Math.abs(ledger.loadOf(donor) - weights[p]! - meanLoad);
      if (score < pickScore - epsilon || (Math.abs(score - pickScore) <= epsilon && p > pick)) {
        pick = p;
        pickScore = score;
      }
    }
    ledger.remove(pick, donor);
    surplus.set(donor, surplus.get(donor)! - 1);
    ledger.reason.set(pick, 'balance');
    given.push(pick);
    left -= 1;
  }
  return { given, left };
}

/** Step 4: the pooled partitions (orphans and surplus), heaviest first, each to the lightest member still below its target. */
export function fillTargets(
  ledger: Ledger,
  pool: readonly number[],
  target: ReadonlyMap<string, number>,
  scale: LoadScale,
): void {
  const { members, weights } = ledger;
  const sorted = [...pool].sort((a, b) => weights[b]! - weights[a]! || a - b);
  for (const p of sorted) {
    let to: string | null = null;
    for (const m of members) {
      if (ledger.count(m) >= target.get(m)!) continue;
      if (to === null || ledger.loadOf(m) < ledger.loadOf(to) - scale.epsilon) to = m;
    }
    // Cannot happen: the targets sum to P and every pooled partition left a member at or above its target.
    if (to === null) throw new Error('placement: no member below target for a pooled partition');
    ledger.add(p, to);
  }
}

export interface RefineOptions {
  /** See PlacementOptions.tolerance. */
  readonly tolerance: number;
  /** See PlacementOptions.minGain, as a load (a fraction of the mean load). */
  readonly minGain: number;
  /** Moves left in this round. */
  readonly budget: number;
  /** Whether a swap (two moves) is ever allowed: PlacementOptions.maxMovesPerRound >= 2. */
  readonly swaps: boolean;
  readonly pinned: ReadonlySet<number>;
}

interface Exchange {
  readonly give: number;
  /** -1 for a plain move. */
  readonly take: number;
  readonly from: string;
  readonly to: string;
  /** The larger of the two members' loads after the exchange. */
  readonly peak: number;
}

/**
 * Step 5, once counts are balanced: while a member's load exceeds the mean by more than the
 * tolerance, the best move or swap between a member at the peak and another (bestExchange),
 * within the budget. Returns true when settled: no member over the tolerance, or no exchange
 * that helps; false when the budget, or a partition already moved this round, stopped it.
 */
export function refineLoad(ledger: Ledger, scale: LoadScale, options: RefineOptions): boolean {
  const moved = new Set(ledger.reason.keys());
  let budget = options.budget;
  for (;;) {
    let peakLoad = 0;
    for (const m of ledger.members) peakLoad = Math.max(peakLoad, ledger.loadOf(m));
    if (peakLoad <= scale.meanLoad * (1 + options.tolerance) + scale.epsilon) return true;
    const best = bestExchange(ledger, scale, options, peakLoad, moved);
    if (best === 'blocked') return false;
    if (best === null) return true;
    const cost = best.take < 0 ? 1 : 2;
    if (cost > budget) return false;
    budget -= cost;
    transfer(ledger, best.give, best.from, best.to);
    moved.add(best.give);
    if (best.take >= 0) {
      transfer(ledger, best.take, best.to, best.from);
      moved.add(best.take);
    }
  }
}

function transfer(ledger: Ledger, p: number, from: string, to: string): void {
  ledger.remove(p, from);
  ledger.add(p, to);
  ledger.reason.set(p, 'load');
}

/**
 * The exchange between a member at the peak load and another member that lowers the heavier of the
 * two the most: a move (only from a member with more partitions, so counts stay within one) or a
 * swap with a lighter partition. Ties: fewer moves, then partition numbers, so member order does
 * not matter. 'blocked': the only improving exchanges involve a partition already moved this round.
 */
function bestExchange(
  ledger: Ledger,
  scale: LoadScale,
  options: RefineOptions,
  peakLoad: number,
  moved: ReadonlySet<number>,
): Exchange | 'blocked' | null {
  const { members, weights } = ledger;
  const { epsilon } = scale;
  const { pinned, minGain } = options;
  let best: Exchange | null = null;
  let blocked = false;
  const consider = (candidate: Exchange): void => {
    if (candidate.peak >= peakLoad - minGain - epsilon) return;
    if (pinned.has(candidate.give) || pinned.has(candidate.take)) return;
    if (moved.has(candidate.give) || moved.has(candidate.take)) {
      blocked = true;
      return;
    }
    if (best === null || candidate.peak < best.peak - epsilon) {
      best = candidate;
      return;
    }
    if (candidate.peak > best.peak + epsilon) return;
    const cost = candidate.take < 0 ? 1 : 2;
    const bestCost = best.take < 0 ? 1 : 2;
    if (
      cost < bestCost ||
      (cost === bestCost &&
        (candidate.give < best.give || (candidate.give === best.give && candidate.take < best.take)))
    ) {
      best = candidate;
    }
  };
  for (const from of members) {
    const hl = ledger.loadOf(from);
    if (hl < peakLoad - epsilon) continue;
    for (const to of members) {
      if (to === from) continue;
      const ll = ledger.loadOf(to);
      for (const give of ledger.partitionsOf(from)) {
        const wg = weights[give]!;
        if (ledger.count(from) > ledger.count(to))
          consider({ give, take: -1, from, to, peak: Math.max(hl - wg, ll + wg) });
        // A swap is two moves: impossible under a limit of one move per round.
        if (!options.swaps) continue;
        for (const take of ledger.partitionsOf(to)) {
          const wt = weights[take]!;
          if (wt >= wg) continue;
          consider({ give, take, from, to, peak: Math.max(hl - wg + wt, ll + wg - wt) });
        }
      }
    }
  }
  return best ?? (blocked ? 'blocked' : null);
}

/**
 * Step 6: the new placement from the old owners and the ledger's. Every moved partition takes the
 * next epoch, in partition order; a partition that stays keeps its entry. The version grows when
 * something moved or the member set or the partition count changed.
 */
export function assignEpochs(
  current: Placement,
  old: readonly PartitionOwner[],
  ledger: Ledger,
  membersChanged: boolean,
): { placement: Placement; moves: Move[] } {
  let epoch = current.epoch;
  const moves: Move[] = [];
  const partitions: PartitionOwner[] = [];
  for (let p = 0; p < old.length; p++) {
    const before = old[p]!;
    const after = ledger.owner[p]!;
    if (after === before.owner) {
      partitions.push(before);
      continue;
    }
    epoch += 1;
    moves.push({ partition: p, from: before.owner, to: after, epoch, reason: ledger.reason.get(p)! });
    partitions.push({ owner: after, epoch, previousOwner: before.owner });
  }
  const changed = moves.length > 0 || membersChanged || old.length !== current.partitions.length;
  return {
    placement: { version: current.version + (changed ? 1 : 0), epoch, members: ledger.members, partitions },
    moves,
  };
}
