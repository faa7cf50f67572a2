import type { Candle } from '../market/candle.js';

/**
 * What runs beside a partition's market actors and moves with them (the reconciler host,
 * reconciler-host.ts): the worker tells it when it claims a partition and when the partition
 * stops here, and hands it every candle row a checkpoint of the partition committed.
 */
export interface PartitionCompanion {
  /** The partition is claimed here at `epoch`; resolves once the companion is ready for it (it never rejects). */
  assign(partition: number, epoch: number): Promise<void>;
  /** The partition stopped here (released, fenced or failed): finish its work, forget it. Never rejects. */
  release(partition: number): Promise<void>;
  /** Candles (closed and revised) a checkpoint of `partition` committed. */
  committed(partition: number, candles: readonly Candle[]): void;
}
