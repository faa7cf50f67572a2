import type { KV } from '@nats-io/kv';
import type { KvBucket, KvEntry, KvWatchOptions } from './bus.js';
import { checkKvKey, checkKvPattern } from './kv-key.js';
import { linkSignals } from './linked-signal.js';
import { classifyNatsError } from './nats-errors.js';

/** A Bus KV bucket on NATS KV (history 1); made by the NATS bus's kv(). */
export class NatsKvBucket implements KvBucket {
  constructor(
    readonly name: string,
    private readonly kv: KV,
    private readonly closing: AbortSignal,
  ) {}

  async put(key: string, value: Uint8Array): Promise<number> {
    checkKvKey(key);
    try {
      return await this.kv.put(key, value);
    } catch (err) {
      throw classifyNatsError(err, `kv put ${key}`);
    }
  }

  async get(key: string): Promise<KvEntry | null> {
    checkKvKey(key);
    try {
      const e = await this.kv.get(key);
      if (e?.operation !== 'PUT') return null;
      return { key: e.key, value: e.value, revision: e.revision, operation: 'put' };
    } catch (err) {
      throw classifyNatsError(err, `kv get ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    checkKvKey(key);
    try {
      await this.kv.delete(key);
    } catch (err) {
      throw classifyNatsError(err, `kv delete ${key}`);
    }
  }

  async keys(pattern?: string): Promise<string[]> {
    if (pattern !== undefined) checkKvPattern(pattern);
    try {
      const out: string[] = [];
      for await (const k of await this.kv.keys(pattern ?? '>')) out.push(k);
      return out;
    } catch (err) {
      throw classifyNatsError(err, 'kv keys');
    }
  }

  async *watch(options: KvWatchOptions): AsyncGenerator<KvEntry> {
    const pattern = options.key ?? '>';
    checkKvPattern(pattern);
    const linked = linkSignals([options.signal, this.closing]);
    try {
      yield* this.follow(pattern, linked.signal);
    } finally {
      linked.unlink();
    }
  }

  private async *follow(pattern: string, signal: AbortSignal): AsyncGenerator<KvEntry> {
    if (signal.aborted) return;
    let iter: Awaited<ReturnType<KV['watch']>>;
    try {
      iter = await this.kv.watch({ key: pattern });
    } catch (err) {
      throw classifyNatsError(err, 'kv watch');
    }
    const stop = (): void => iter.stop();
    signal.addEventListener('abort', stop, { once: true });
    // The initial snapshot carries tombstones of deleted keys; a delete is passed on only for a
    // key this watcher has seen (the client's isUpdate flag is already true on the last
    // snapshot entry, so it cannot tell them apart).
    const live = new Set<string>();
    try {
      for await (const e of iter) {
        if (signal.aborted) return;
        if (e.operation === 'PUT') {
          live.add(e.key);
          yield { key: e.key, value: e.value, revision: e.revision, operation: 'put' };
        } else if (live.delete(e.key)) {
          yield { key: e.key, value: new Uint8Array(0), revision: e.revision, operation: 'delete' };
        }
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  }
}
