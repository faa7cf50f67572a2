import { subjectToken } from '../bus/subject-syntax.js';

/**
 * The worker heartbeat (docs/OPERATOR.md): `tickmesh.worker.alive.<member>`, JSON, every 500 ms.
 * Its presence is the liveness signal; its partitions carry the measured load per partition that
 * the placement weighs. Fields may be added; readers ignore what they do not know.
 */
export const HEARTBEAT_PREFIX = 'tickmesh.worker.alive';

export function heartbeatSubject(member: string): string {
  return `${HEARTBEAT_PREFIX}.${subjectToken(member)}`;
}

export interface PartitionBeat {
  readonly partition: number;
  /** The epoch the sender runs the partition at: of two senders, the higher epoch is the owner. */
  readonly epoch: number;
  /** Trades appended to the partition per second (smoothed; see LoadMeter); absent until measured. */
  readonly rate?: number;
  /** Records appended and not yet processed by the sender. */
  readonly lag?: number;
  /** The sender holds the partition back (backpressure). */
  readonly paused?: boolean;
}

export interface Heartbeat {
  readonly member: string;
  readonly partitions: readonly PartitionBeat[];
  /** Sender's clock, ms; informational only (no clock is compared between machines). */
  readonly time: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeHeartbeat(beat: Heartbeat): Uint8Array {
  return encoder.encode(JSON.stringify(beat));
}

const finiteAtLeastZero = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * The heartbeat in `data`, or undefined when it is not one. Partition entries that are malformed
 * are dropped one by one (a beat still proves its sender alive); a bad rate or lag is dropped alone.
 */
export function decodeHeartbeat(data: Uint8Array): Heartbeat | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { member, partitions, time } = raw as { member?: unknown; partitions?: unknown; time?: unknown };
  if (typeof member !== 'string' || member.length === 0) return undefined;
  const beats: PartitionBeat[] = [];
  for (const p of Array.isArray(partitions) ? partitions : []) {
    if (typeof p !== 'object' || p === null) continue;
    const { partition, epoch, rate, lag, paused } = p as Record<string, unknown>;
    if (!Number.isInteger(partition) || (partition as number) < 0 || !Number.isInteger(epoch)) continue;
    beats.push({
      partition: partition as number,
      epoch: epoch as number,
      ...(finiteAtLeastZero(rate) ? { rate } : {}),
      ...(finiteAtLeastZero(lag) ? { lag } : {}),
      ...(typeof paused === 'boolean' ? { paused } : {}),
    });
  }
  return { member, partitions: beats, time: typeof time === 'number' ? time : 0 };
}
