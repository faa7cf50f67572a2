import { z } from 'zod';
import { InputError } from '../runtime/errors.js';
import type { Placement } from './placement.js';

/**
 * The published placement, as workers and kubectl see it (docs/OPERATOR.md, "Placement document").
 * JSON, versioned by `format`. Readers must ignore fields they do not know.
 *
 * Guarantees: `version` grows with every publication that changes something; `epoch` is the highest
 * epoch issued and never decreases; each partition's epoch changes only when its owner changes.
 */
export const PLACEMENT_FORMAT = 'tickmesh.placement.v1';

const partitionSchema = z.object({
  partition: z.number().int().nonnegative(),
  owner: z.string().nullable(),
  epoch: z.number().int().nonnegative(),
  previousOwner: z.string().nullable(),
});

const documentSchema = z.object({
  format: z.literal(PLACEMENT_FORMAT),
  version: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  partitionCount: z.number().int().nonnegative(),
  members: z.array(z.string()),
  partitions: z.array(partitionSchema),
  /** Operator identity (pod name) that published it. */
  publishedBy: z.string(),
  /** ISO 8601. */
  publishedAt: z.string(),
});

export type PlacementDocument = z.infer<typeof documentSchema>;
export type PartitionEntry = z.infer<typeof partitionSchema>;

export function toDocument(placement: Placement, meta: { publishedBy: string; publishedAt: Date }): PlacementDocument {
  return {
    format: PLACEMENT_FORMAT,
    version: placement.version,
    epoch: placement.epoch,
    partitionCount: placement.partitions.length,
    members: [...placement.members],
    partitions: placement.partitions.map((a, partition) => ({
      partition,
      owner: a.owner,
      epoch: a.epoch,
      previousOwner: a.previousOwner,
    })),
    publishedBy: meta.publishedBy,
    publishedAt: meta.publishedAt.toISOString(),
  };
}

export function fromDocument(doc: PlacementDocument): Placement {
  const partitions = [...doc.partitions]
    .sort((a, b) => a.partition - b.partition)
    .map((e) => ({ owner: e.owner, epoch: e.epoch, previousOwner: e.previousOwner }));
  return { version: doc.version, epoch: doc.epoch, members: [...doc.members], partitions };
}

export function encodeDocument(doc: PlacementDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Parses and validates a published document; throws InputError('placement') on anything else. */
export function parseDocument(text: string): PlacementDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new InputError('placement', 'placement document is not JSON', { cause });
  }
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success) throw new InputError('placement', `invalid placement document: ${parsed.error.message}`);
  const doc = parsed.data;
  const seen = new Set(doc.partitions.map((p) => p.partition));
  if (seen.size !== doc.partitionCount || doc.partitions.some((p) => p.partition >= doc.partitionCount)) {
    throw new InputError('placement', 'placement document does not list each partition exactly once');
  }
  return doc;
}

/** What one worker must start and stop when the placement changes from `before` to `after`. */
export interface WorkerAssignment {
  /** Partitions now owned by `self` that it did not own (or owned under an older epoch). */
  readonly acquire: readonly {
    readonly partition: number;
    readonly epoch: number;
    /** Who must release it first; null for a first placement. */
    readonly previousOwner: string | null;
    /** False when the previous owner is no longer a member: no release will come, wait only the bounded time. */
    readonly previousOwnerIsMember: boolean;
    /**
     * True when `self` still runs this partition under an older epoch (it moved away and back in
     * documents the worker did not see): stop it and start again from the checkpoint.
     */
    readonly restart: boolean;
  }[];
  /** Partitions `self` owned and must now release (stop, final checkpoint, announce). */
  readonly release: readonly { readonly partition: number; readonly epoch: number; readonly newOwner: string | null }[];
  /** Partitions `self` keeps: they never stop. */
  readonly keep: readonly number[];
}

/**
 * The worker-side reading of a placement change. `before` is the last document the worker acted on
 * (null at start). A worker that sees a document with a lower version than `before` ignores it.
 */
export function assignmentFor(
  before: PlacementDocument | null,
  after: PlacementDocument,
  self: string,
): WorkerAssignment {
  const had = new Map<number, number>();
  for (const e of before?.partitions ?? []) if (e.owner === self) had.set(e.partition, e.epoch);
  const members = new Set(after.members);
  const acquire: WorkerAssignment['acquire'][number][] = [];
  const release: WorkerAssignment['release'][number][] = [];
  const keep: number[] = [];
  for (const e of after.partitions) {
    const previousEpoch = had.get(e.partition);
    if (e.owner === self) {
      if (previousEpoch === e.epoch) keep.push(e.partition);
      else
        acquire.push({
          partition: e.partition,
          epoch: e.epoch,
          previousOwner: e.previousOwner === self ? null : e.previousOwner,
          previousOwnerIsMember: e.previousOwner !== null && e.previousOwner !== self && members.has(e.previousOwner),
          restart: previousEpoch !== undefined,
        });
    } else if (previousEpoch !== undefined) {
      release.push({ partition: e.partition, epoch: e.epoch, newOwner: e.owner });
    }
  }
  return { acquire, release, keep };
}
