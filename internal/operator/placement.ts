/**
 * Placement: which worker owns which partition. A pure function of the current placement, the live
 * members and the measured load; no I/O, no clock, and the same input always gives the same output.
 *
 * Balance rule (docs/OPERATOR.md explains the choice):
 *  1. Counts within one, always: every member owns floor(P/N) or ceil(P/N) partitions. This part moves
 *     the fewest partitions possible: a partition whose owner is gone (an orphan) moves, and a member
 *     keeps min(its count, its target) of what it has; nothing else moves.
 *  2. Load, measured per partition, decides which partitions a member gives up and which member
 *     receives what, and, once counts are balanced, a member whose load exceeds the mean by more than
 *     `tolerance` gives a partition to (or swaps one with) a lighter member while that strictly lowers
 *     the heavier of the two. These `load` moves are the only ones beyond the count minimum.
 *
 * Epochs: `placement.epoch` is the highest epoch ever issued. Every move takes the next one (in
 * partition order), so epochs only grow and a partition that does not move keeps its epoch.
 */

export interface PartitionOwner {
  /** Member that owns the partition; null only for a partition that was never placed. */
  readonly owner: string | null;
  /** Epoch of the latest move of this partition (0: never placed). Checkpoint writes are fenced by it. */
  readonly epoch: number;
  /** Owner before the latest move (null for a first placement): the member that must release it. */
  readonly previousOwner: string | null;
}

export interface Placement {
  /** Counts published changes; +1 whenever partitions move or the member set changes. */
  readonly version: number;
  /** Highest epoch issued so far. */
  readonly epoch: number;
  /** Members this placement was computed for, sorted. */
  readonly members: readonly string[];
  /** Index = partition number. */
  readonly partitions: readonly PartitionOwner[];
}

export type MoveReason = 'orphan' | 'balance' | 'load';

export interface Move {
  readonly partition: number;
  /** Previous owner; null when the partition had none. For an orphan, the (gone) previous owner. */
  readonly from: string | null;
  readonly to: string;
  readonly epoch: number;
  /** orphan: its owner is gone; balance: count balancing; load: load balancing beyond counts. */
  readonly reason: MoveReason;
}

export interface PlacementOptions {
  /** Allowed load excess over the mean member load, as a fraction (0.2: up to 120 % of the mean). */
  readonly tolerance: number;
  /**
   * Most moves of partitions between two live members per round (balance + load). Orphans are
   * exempt: their owner is gone, so delaying them only prolongs the outage.
   */
  readonly maxMovesPerRound: number;
  /**
   * Hysteresis for load moves: an exchange is made only when it lowers the heavier member's load by
   * more than this fraction of the mean member load. Measured rates are noisy; without it a
   * member whose load cannot be brought within the tolerance (one very hot partition) would
   * trade partitions for marginal, noise-sized gains at every round. Default 0.
   */
  readonly minGain?: number;
}

export interface PlacementInput {
  readonly current: Placement;
  readonly partitionCount: number;
  /** Ready members; order and duplicates do not matter. */
  readonly members: readonly string[];
  /**
   * Measured load per partition (any unit: records/s, bytes/s). Without any positive value every
   * partition weighs 1; a partition with no measurement weighs the mean of the measured ones.
   */
  readonly load?: ReadonlyMap<number, number>;
  /**
   * Partitions that load moves leave where they are (the operator pins those it moved recently:
   * their rate is still being measured at the new owner). Orphans and count balancing ignore it.
   */
  readonly pinned?: ReadonlySet<number>;
  readonly options: PlacementOptions;
}

export interface PlacementResult {
  readonly placement: Placement;
  /** Sorted by partition; epochs strictly increase along the list. */
  readonly moves: readonly Move[];
  /** True when another round on the same input would move nothing. */
  readonly settled: boolean;
}

export function emptyPlacement(partitionCount: number): Placement {
  const partitions: PartitionOwner[] = [];
  for (let p = 0; p < partitionCount; p++) partitions.push({ owner: null, epoch: 0, previousOwner: null });
  return { version: 0, epoch: 0, members: [], partitions };
}

/** Per-partition weights as the placement uses them (see PlacementInput.load). */
export function partitionWeights(partitionCount: number, load?: ReadonlyMap<number, number>): number[] {
  const known: number[] = [];
  if (load) {
    for (let p = 0; p < partitionCount; p++) {
      const v = load.get(p);
      if (v !== undefined && Number.isFinite(v) && v >= 0) known.push(v);
    }
  }
  const total = known.reduce((a, b) => a + b, 0);
  if (total <= 0) return new Array<number>(partitionCount).fill(1);
  const fallback = total / known.length;
  const weights: number[] = [];
  for (let p = 0; p < partitionCount; p++) {
    const v = load?.get(p);
    weights.push(v !== undefined && Number.isFinite(v) && v >= 0 ? v : fallback);
  }
  return weights;
}

export interface Imbalance {
  /** Largest minus smallest partition count over members. */
  readonly countSpread: number;
  /** Largest member load over the mean member load (1 = perfect); 0 without members or load. */
  readonly loadRatio: number;
}

export function imbalance(placement: Placement, weights: readonly number[]): Imbalance {
  const loads = new Map<string, number>(placement.members.map((m) => [m, 0]));
  const counts = new Map<string, number>(placement.members.map((m) => [m, 0]));
  placement.partitions.forEach((a, p) => {
    if (a.owner === null || !loads.has(a.owner)) return;
    loads.set(a.owner, (loads.get(a.owner) ?? 0) + (weights[p] ?? 0));
    counts.set(a.owner, (counts.get(a.owner) ?? 0) + 1);
  });
  if (loads.size === 0) return { countSpread: 0, loadRatio: 0 };
  const c = [...counts.values()];
  const l = [...loads.values()];
  const mean = l.reduce((a, b) => a + b, 0) / l.length;
  return { countSpread: Math.max(...c) - Math.min(...c), loadRatio: mean > 0 ? Math.max(...l) / mean : 0 };
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

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function place(input: PlacementInput): PlacementResult {
  const { current, partitionCount: P, options } = input;
  if (!Number.isInteger(P) || P < 0) throw new RangeError(`partitionCount must be a non-negative integer, got ${P}`);
  if (!(options.maxMovesPerRound >= 1)) throw new RangeError('maxMovesPerRound must be at least 1');
  if (!(options.tolerance >= 0)) throw new RangeError('tolerance must be non-negative');
  if (!((options.minGain ?? 0) >= 0)) throw new RangeError('minGain must be non-negative');
  const pinned = input.pinned ?? new Set<number>();

  const members = [...new Set(input.members)].sort(byName);
  const weights = partitionWeights(P, input.load);
  const unitWeights = weights.every((w) => w === 1);
  const owner: (string | null)[] = [];
  const old: PartitionOwner[] = [];
  for (let p = 0; p < P; p++) {
    const a = current.partitions[p] ?? { owner: null, epoch: 0, previousOwner: null };
    old.push(a);
    owner.push(a.owner);
  }
  const membersChanged = members.length !== current.members.length || members.some((m, i) => m !== current.members[i]);

  if (members.length === 0) {
    // Nobody to place on: keep the last owners so that the first member to come back sees them as orphans.
    const placement: Placement = {
      version: current.version + (membersChanged || P !== current.partitions.length ? 1 : 0),
      epoch: current.epoch,
      members,
      partitions: old,
    };
    return { placement, moves: [], settled: P === 0 };
  }

  const live = new Set(members);
  const owned = new Map<string, Set<number>>(members.map((m) => [m, new Set<number>()]));
  const load = new Map<string, number>(members.map((m) => [m, 0]));
  const orphans: number[] = [];
  for (let p = 0; p < P; p++) {
    const o = owner[p];
    if (o !== null && o !== undefined && live.has(o)) {
      owned.get(o)!.add(p);
      load.set(o, load.get(o)! + weights[p]!);
    } else {
      orphans.push(p);
    }
  }
  const count = (m: string): number => owned.get(m)!.size;
  const loadOf = (m: string): number => load.get(m)!;
  const reason = new Map<number, MoveReason>();
  for (const p of orphans) reason.set(p, 'orphan');

  // Targets: members that already hold more than the floor keep one extra first (that is what
  // minimizes moves); then the emptiest members (new ones) take the remaining extras, so that a join
  // sends partitions to the new member only. Load breaks ties.
  const N = members.length;
  const q = Math.floor(P / N);
  const r = P % N;
  const over = members.filter((m) => count(m) > q).sort((a, b) => loadOf(a) - loadOf(b) || byName(a, b));
  const under = members
    .filter((m) => count(m) <= q)
    .sort((a, b) => count(a) - count(b) || loadOf(a) - loadOf(b) || byName(a, b));
  const target = new Map<string, number>();
  for (const [i, m] of [...over, ...under].entries()) target.set(m, i < r ? q + 1 : q);

  const totalLoad = weights.reduce((a, b) => a + b, 0);
  const meanLoad = totalLoad / N;
  const epsilon = 1e-9 * Math.max(totalLoad, 1);
  const minGain = (options.minGain ?? 0) * meanLoad;
  let budget = options.maxMovesPerRound;

  // Donors give up their surplus, one partition at a time from the donor with the largest remaining
  // surplus, so that a rate-limited round spreads the work. A donor gives the partition that brings
  // its load closest to the mean.
  const surplus = new Map<string, number>(members.map((m) => [m, Math.max(0, count(m) - target.get(m)!)]));
  let remaining = [...surplus.values()].reduce((a, b) => a + b, 0);
  const pool: number[] = [...orphans];
  while (remaining > 0 && budget > 0) {
    let donor = members[0]!;
    for (const m of members) {
      const s = surplus.get(m)!;
      const best = surplus.get(donor)!;
      if (s > best || (s === best && s > 0 && loadOf(m) > loadOf(donor))) donor = m;
    }
    let pick = -1;
    let pickScore = Number.POSITIVE_INFINITY;
    for (const p of owned.get(donor)!) {
      const score = Math.abs(loadOf(donor) - weights[p]! - meanLoad);
      if (score < pickScore - epsilon || (Math.abs(score - pickScore) <= epsilon && p > pick)) {
        pick = p;
        pickScore = score;
      }
    }
    owned.get(donor)!.delete(pick);
    load.set(donor, loadOf(donor) - weights[pick]!);
    surplus.set(donor, surplus.get(donor)! - 1);
    reason.set(pick, 'balance');
    pool.push(pick);
    remaining -= 1;
    budget -= 1;
  }

  // Heaviest first, each to the lightest member that is still below its target.
  pool.sort((a, b) => weights[b]! - weights[a]! || a - b);
  for (const p of pool) {
    let to: string | null = null;
    for (const m of members) {
      if (count(m) >= target.get(m)!) continue;
      if (to === null || loadOf(m) < loadOf(to) - epsilon) to = m;
    }
    // Cannot happen: the targets sum to P and every pooled partition left a member at or above its target.
    if (to === null) throw new Error('placement: no member below target for a pooled partition');
    owned.get(to)!.add(p);
    load.set(to, loadOf(to) + weights[p]!);
    owner[p] = to;
  }

  let settled = remaining === 0;
  if (settled && !unitWeights) settled = refineLoad();

  function refineLoad(): boolean {
    const moved = new Set(reason.keys());
    for (;;) {
      let peakLoad = 0;
      for (const m of members) peakLoad = Math.max(peakLoad, loadOf(m));
      if (peakLoad <= meanLoad * (1 + options.tolerance) + epsilon) return true;
      const best = bestExchange(peakLoad, moved);
      if (best === 'blocked') return false;
      if (best === null) return true;
      const cost = best.take < 0 ? 1 : 2;
      if (cost > budget) return false;
      budget -= cost;
      transfer(best.give, best.from, best.to);
      moved.add(best.give);
      if (best.take >= 0) {
        transfer(best.take, best.to, best.from);
        moved.add(best.take);
      }
    }
  }

  /**
   * The exchange between a member at the peak load and another member that lowers the heavier of the
   * two the most: a move (only from a member with more partitions, so counts stay within one) or a
   * swap with a lighter partition. Ties: fewer moves, then partition numbers, so member order does
   * not matter. 'blocked': the only improving exchanges involve a partition already moved this round.
   */
  function bestExchange(peakLoad: number, moved: ReadonlySet<number>): Exchange | 'blocked' | null {
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
      const hl = loadOf(from);
      if (hl < peakLoad - epsilon) continue;
      for (const to of members) {
        if (to === from) continue;
        const ll = loadOf(to);
        for (const give of owned.get(from)!) {
          const wg = weights[give]!;
          if (count(from) > count(to)) consider({ give, take: -1, from, to, peak: Math.max(hl - wg, ll + wg) });
          // A swap is two moves: impossible under a limit of one move per round.
          if (options.maxMovesPerRound < 2) continue;
          for (const take of owned.get(to)!) {
            const wt = weights[take]!;
            if (wt >= wg) continue;
            consider({ give, take, from, to, peak: Math.max(hl - wg + wt, ll + wg - wt) });
          }
        }
      }
    }
    return best ?? (blocked ? 'blocked' : null);
  }

  function transfer(p: number, from: string, to: string): void {
    owned.get(from)!.delete(p);
    owned.get(to)!.add(p);
    load.set(from, loadOf(from) - weights[p]!);
    load.set(to, loadOf(to) + weights[p]!);
    owner[p] = to;
    reason.set(p, 'load');
  }

  let epoch = current.epoch;
  const moves: Move[] = [];
  const partitions: PartitionOwner[] = [];
  for (let p = 0; p < P; p++) {
    const before = old[p]!;
    const after = owner[p]!;
    if (after === before.owner) {
      partitions.push(before);
      continue;
    }
    epoch += 1;
    moves.push({ partition: p, from: before.owner, to: after, epoch, reason: reason.get(p)! });
    partitions.push({ owner: after, epoch, previousOwner: before.owner });
  }
  const changed = moves.length > 0 || membersChanged || P !== current.partitions.length;
  return {
    placement: { version: current.version + (changed ? 1 : 0), epoch, members, partitions },
    moves,
    settled,
  };
}
