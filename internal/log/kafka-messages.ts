import { type IHeaders, type Message, Partitioners } from 'kafkajs';
import type { Headers, OutgoingRecord } from './log.js';
import { murmur2 } from './partitioner.js';

/** Distinct keys whose bytes are kept; past it the cache starts over (markets are far fewer). */
const MAX_KEYS = 100_000;

type PartitionerArgs = Parameters<ReturnType<typeof Partitioners.DefaultPartitioner>>[0];

/**
 * Turns OutgoingRecords into kafkajs Messages with as little work per record as it can. Every
 * trade of a market has the same key and every trade record the same headers object, so a key's
 * UTF-8 bytes are made once per distinct key and a headers object's Buffer values once per
 * distinct object (by identity: Headers are immutable by contract). kafkajs copies Buffers as they
 * are; strings it measures and encodes again for every record, and its partitioner re-encodes
 * string keys on top.
 *
 * The Buffers handed out are shared between messages: kafkajs only reads them.
 */
export class MessageBuilder {
  private readonly keys = new Map<string, Buffer>();
  private readonly headers = new WeakMap<Headers, IHeaders>();

  keyBytes(key: string): Buffer {
    let bytes = this.keys.get(key);
    if (bytes === undefined) {
      if (this.keys.size >= MAX_KEYS) this.keys.clear();
      bytes = Buffer.from(key, 'utf8');
      this.keys.set(key, bytes);
    }
    return bytes;
  }

  headersOf(headers: Headers): IHeaders {
    let out = this.headers.get(headers);
    if (out === undefined) {
      const h: Record<string, Buffer> = {};
      for (const k in headers) h[k] = Buffer.from(headers[k] as string, 'utf8');
      out = Object.freeze(h);
      this.headers.set(headers, out);
    }
    return out;
  }

  /**
   * The messages of one send() call. `trace` (the caller's active trace context, possibly empty)
   * is added to every record's headers, one merged headers object per distinct headers object.
   */
  messages(records: readonly OutgoingRecord[], trace: Readonly<Record<string, string>>): Message[] {
    const out: Message[] = new Array(records.length);
    let traced: IHeaders | undefined;
    for (const k in trace) {
      traced ??= {};
      traced[k] = Buffer.from(trace[k] as string, 'utf8');
    }
    let merged: Map<Headers | undefined, IHeaders> | undefined;
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as OutgoingRecord;
      const key = this.keyBytes(r.key);
      const value = Buffer.isBuffer(r.value)
        ? r.value
        : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      if (traced === undefined) {
        out[i] = r.headers ? { key, value, headers: this.headersOf(r.headers) } : { key, value };
        continue;
      }
      merged ??= new Map();
      let headers = merged.get(r.headers);
      if (headers === undefined) {
        headers = r.headers ? { ...this.headersOf(r.headers), ...traced } : traced;
        merged.set(r.headers, headers);
      }
      out[i] = { key, value, headers };
    }
    return out;
  }
}

/**
 * A kafkajs partitioner equal to its DefaultPartitioner for keyed records (Kafka's murmur2 of the
 * key bytes, sign bit masked, modulo the partition count in kafkajs's current metadata), without
 * its per-record Long arithmetic, string re-encoding and partition-list filtering. Records with a
 * partition set or without a Buffer key go to kafkajs's own partitioner.
 */
export function keyPartitioner(): (args: PartitionerArgs) => number {
  const fallback = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message } = args;
    if (Buffer.isBuffer(message.key) && (message.partition === undefined || message.partition === null)) {
      return (murmur2(message.key) & 0x7fffffff) % args.partitionMetadata.length;
    }
    return fallback(args);
  };
}
