import type { Heartbeat } from './heartbeat-message.js';

/**
 * The measured load per partition, as the workers' heartbeats report it: the input rate
 * (records appended per second) the placement weighs, and each owner's lag and pause state.
 * Pure: receipt times come from the caller.
 *
 * A partition is reported by the worker running it; during a handoff two may report it for a
 * moment, and the higher epoch wins. A rate is a property of the partition's input, not of its
 * owner: it outlives a move or the owner's death (for `rateMaxAgeMs`), so that a partition that
 * just moved does not fall back to the mean weight and invite another move. A lag is the owner's
 * and is dropped when the owner has not reported the partition for `lagMaxAgeMs`.
 */
export interface LoadBoardOptions {
  /** A rate not reported for this long is forgotten. Default 300,000 ms. */
  readonly rateMaxAgeMs?: number;
  /** A lag not reported for this long is forgotten. Default 5,000 ms. */
  readonly lagMaxAgeMs?: number;
}

interface Entry {
  epoch: number;
  member: string;
  rate: number | undefined;
  rateAt: number;
  lag: number | undefined;
  paused: boolean;
  at: number;
}

export interface PartitionReport {
  readonly partition: number;
  readonly member: string;
  readonly rate?: number;
  readonly lag?: number;
  readonly paused: boolean;
}

export class LoadBoard {
  private readonly entries = new Map<number, Entry>();
  private readonly rateMaxAge: number;
  private readonly lagMaxAge: number;

  constructor(options: LoadBoardOptions = {}) {
    this.rateMaxAge = options.rateMaxAgeMs ?? 300_000;
    this.lagMaxAge = options.lagMaxAgeMs ?? 5_000;
  }

  record(beat: Heartbeat, at: number): void {
    for (const p of beat.partitions) {
      const e = this.entries.get(p.partition);
      if (e && p.epoch < e.epoch) continue;
      const rate = p.rate ?? e?.rate;
      this.entries.set(p.partition, {
        epoch: p.epoch,
        member: beat.member,
        rate,
        rateAt: p.rate !== undefined ? at : (e?.rateAt ?? at),
        lag: p.lag,
        paused: p.paused ?? false,
        at,
      });
    }
  }

  /** Measured input rate per partition; partitions without a recent measurement are absent. */
  rates(now: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const [p, e] of this.entries) {
      const rate = this.recentRate(e, now);
      if (rate !== undefined) out.set(p, rate);
    }
    return out;
  }

  /** What each partition's current owner reported recently, by partition. */
  reports(now: number): PartitionReport[] {
    const out: PartitionReport[] = [];
    for (const [partition, e] of [...this.entries].sort((a, b) => a[0] - b[0])) {
      const fresh = now - e.at <= this.lagMaxAge;
      const rate = this.recentRate(e, now);
      if (!fresh && rate === undefined) continue;
      out.push({
        partition,
        member: e.member,
        ...(rate === undefined ? {} : { rate }),
        ...(fresh && e.lag !== undefined ? { lag: e.lag } : {}),
        paused: fresh && e.paused,
      });
    }
    return out;
  }

  private recentRate(e: Entry, now: number): number | undefined {
    return e.rate !== undefined && now - e.rateAt <= this.rateMaxAge ? e.rate : undefined;
  }
}

/**
 * The load the placement is given: the measured rates when their total reaches `minTotalRate`,
 * else undefined (every partition weighs the same). Below that floor the rates are mostly noise
 * (a few trades a second): weighing them would move partitions back and forth for nothing.
 */
export function placementLoad(
  rates: ReadonlyMap<number, number>,
  minTotalRate: number,
): Map<number, number> | undefined {
  let total = 0;
  for (const r of rates.values()) total += r;
  return total > 0 && total >= minTotalRate ? new Map(rates) : undefined;
}
