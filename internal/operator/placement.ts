import {
  assignEpochs,
  byName,
  collectOrphans,
  countTargets,
  fillTargets,
  loadScale,
  refineLoad,
  takeSurplus,
} from './placement-steps.js';

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

/**
 * One round: orphans, count targets, surplus, filling the targets, load refinement, epochs (the
 * steps are in placement-steps.ts). Moves between live members stop at maxMovesPerRound; the
 * result says whether the next round on the same input would move more.
 */
export function place(input: PlacementInput): PlacementResult {
  const { current, partitionCount: P, options } = input;
  if (!Number.isInteger(P) || P < 0) throw new RangeError(`partitionCount must be a non-negative integer, got ${P}`);
  if (!(options.maxMovesPerRound >= 1)) throw new RangeError('maxMovesPerRound must be at least 1');
  if (!(options.tolerance >= 0)) throw new RangeError('tolerance must be non-negative');
  if (!((options.minGain ?? 0) >= 0)) throw new RangeError('minGain must be non-negative');

  const members = [...new Set(input.members)].sort(byName);
  const old: PartitionOwner[] = [];
  for (let p = 0; p < P; p++) old.push(current.partitions[p] ?? { owner: null, epoch: 0, previousOwner: null });
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

  const weights = partitionWeights(P, input.load);
  const scale = loadScale(weights, members.length);
  const { ledger, orphans } = collectOrphans(
    members,
    weights,
    old.map((a) => a.owner),
  );
  const target = countTargets(ledger, P);
  const { given, left } = takeSurplus(ledger, target, scale, options.maxMovesPerRound);
  fillTargets(ledger, [...orphans, ...given], target, scale);
  let settled = left === 0;
  if (settled && !weights.every((w) => w === 1)) {
    settled = refineLoad(ledger, scale, {
      tolerance: options.tolerance,
      minGain: (options.minGain ?? 0) * scale.meanLoad,
      budget: options.maxMovesPerRound - given.length,
      swaps: options.maxMovesPerRound >= 2,
      pinned: input.pinned ?? new Set<number>(),
    });
  }
  return { ...assignEpochs(current, old, ledger, membersChanged), settled };
}
