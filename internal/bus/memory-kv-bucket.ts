import type { KvBucket, KvEntry, KvWatchOptions } from './bus.js';
import { checkKvKey, checkKvPattern } from './kv-key.js';
import { linkSignals } from './linked-signal.js';
import { subjectMatches } from './subject-syntax.js';
import { WakeSignal } from './wake-signal.js';

/** A Bus KV bucket in memory, with the NATS KV semantics the workers rely on; made by the memory bus's kv(). */
export class MemoryKvBucket implements KvBucket {
  private readonly entries = new Map<string, KvEntry>();
  private readonly log: KvEntry[] = [];
  private revision = 0;
  private readonly changed = new WakeSignal();

  constructor(
    readonly name: string,
    private readonly closing: AbortSignal,
  ) {}

  async put(key: string, value: Uint8Array): Promise<number> {
    checkKvKey(key);
    return this.append({ key, value, revision: ++this.revision, operation: 'put' });
  }

  async get(key: string): Promise<KvEntry | null> {
    checkKvKey(key);
    const e = this.entries.get(key);
    return e && e.operation === 'put' ? e : null;
  }

  async delete(key: string): Promise<void> {
    checkKvKey(key);
    this.append({ key, value: new Uint8Array(0), revision: ++this.revision, operation: 'delete' });
  }

  async keys(pattern?: string): Promise<string[]> {
    if (pattern !== undefined) checkKvPattern(pattern);
    return [...this.entries.values()]
      .filter((e) => e.operation === 'put' && (pattern === undefined || subjectMatches(pattern, e.key)))
      .map((e) => e.key);
  }

  async *watch(options: KvWatchOptions): AsyncGenerator<KvEntry> {
    const pattern = options.key ?? '>';
    checkKvPattern(pattern);
    const { signal, unlink } = linkSignals([options.signal, this.closing]);
    const matches = (e: KvEntry): boolean => subjectMatches(pattern, e.key);
    const initial = [...this.entries.values()]
      .filter((e) => e.operation === 'put' && matches(e))
      .sort((a, b) => a.revision - b.revision);
    let seen = this.revision;
    // As the NATS adapter: a delete is passed on only for a key this watcher has seen.
    const live = new Set<string>();
    try {
      for (const e of initial) {
        if (signal.aborted) return;
        live.add(e.key);
        yield e;
      }
      while (!signal.aborted) {
        const fresh = this.log.filter((e) => e.revision > seen && matches(e));
        if (fresh.length === 0) {
          seen = Math.max(seen, this.revision);
          await this.changed.wait(signal);
          continue;
        }
        for (const e of fresh) {
          if (signal.aborted) return;
          seen = e.revision;
          if (e.operation === 'put') live.add(e.key);
          else if (!live.delete(e.key)) continue;
          yield e;
        }
      }
    } finally {
      unlink();
    }
  }

  private append(e: KvEntry): number {
    this.entries.set(e.key, e);
    this.log.push(e);
    // Only the latest entry per key is needed by watchers that catch up; keep the change log short.
    if (this.log.length > 4 * Math.max(64, this.entries.size)) {
      const latest = new Set(this.entries.values());
      const kept = this.log.filter((x) => latest.has(x));
      this.log.length = 0;
      this.log.push(...kept);
    }
    this.changed.fire();
    return e.revision;
  }
}
