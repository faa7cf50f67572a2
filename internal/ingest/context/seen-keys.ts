import type { LogConsumer } from '../../log/log.js';
import { newsKey, referenceKey, SCHEMA_HEADER, sentimentKey } from './records.js';

/**
 * The dedupe keys of what each source already appended, bounded per source (the oldest are
 * forgotten first). Seeded at start from the tail of the context topics (readSeenKeys), so a
 * restart does not append again what the previous process did.
 */
export class SeenKeys {
  private readonly bySource = new Map<string, Set<string>>();
  constructor(private readonly maxPerSource = 20_000) {}

  has(source: string, key: string): boolean {
    return this.bySource.get(source)?.has(key) ?? false;
  }

  /** Records `key`; false when it was there already. */
  add(source: string, key: string): boolean {
    let set = this.bySource.get(source);
    if (set === undefined) {
      set = new Set();
      this.bySource.set(source, set);
    }
    if (set.has(key)) return false;
    set.add(key);
    if (set.size > this.maxPerSource) set.delete(set.values().next().value as string);
    return true;
  }

  /** Whether anything of `source` was seen. */
  any(source: string): boolean {
    return (this.bySource.get(source)?.size ?? 0) > 0;
  }
}

const decoder = new TextDecoder();

/** The dedupe key of a context record value, by its schema header; undefined for anything else. */
export function keyOfRecord(
  schema: string | undefined,
  value: Uint8Array,
): { source: string; key: string } | undefined {
  if (schema !== 'reference.v1' && schema !== 'sentiment.v1' && schema !== 'news.v1') return undefined;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(decoder.decode(value)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof r.source !== 'string') return undefined;
  const key =
    schema === 'reference.v1'
      ? referenceKey(r as { asset: string; time: number })
      : schema === 'sentiment.v1'
        ? sentimentKey(r as { index: string; time: number })
        : newsKey(r as { guid: string });
  return { source: r.source, key };
}

export interface ReadSeenOptions {
  /** A consumer of one context topic that nothing else uses. */
  readonly consumer: LogConsumer;
  /** The topic's end offsets per partition (LogAdmin.endOffsets). */
  readonly ends: ReadonlyMap<number, bigint>;
  /** Records read back from the end of each partition. */
  readonly tail: number;
  readonly into: SeenKeys;
  readonly signal: AbortSignal;
}

/** Adds the dedupe keys of the last `tail` records of each partition to `into`; stops at `ends`. */
export async function readSeenKeys(o: ReadSeenOptions): Promise<number> {
  const remaining = new Map<number, bigint>();
  for (const [partition, end] of o.ends) {
    if (end <= 0n) continue;
    remaining.set(partition, end);
    await o.consumer.assign(partition, end > BigInt(o.tail) ? end - BigInt(o.tail) : 0n);
  }
  if (remaining.size === 0) return 0;
  const stop = new AbortController();
  let added = 0;
  try {
    for await (const batch of o.consumer.batches(AbortSignal.any([o.signal, stop.signal]))) {
      const end = remaining.get(batch.partition);
      if (end === undefined) continue;
      for (const r of batch.records) {
        if (r.offset >= end) break;
        const k = keyOfRecord(r.headers[SCHEMA_HEADER], r.value);
        if (k !== undefined && o.into.add(k.source, k.key)) added++;
      }
      const last = batch.records.at(-1);
      if (last !== undefined && last.offset + 1n >= end) {
        remaining.delete(batch.partition);
        await o.consumer.unassign(batch.partition);
      }
      if (remaining.size === 0) stop.abort();
    }
  } finally {
    for (const p of remaining.keys()) await o.consumer.unassign(p);
  }
  return added;
}
