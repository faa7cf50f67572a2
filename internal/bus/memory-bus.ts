import { ConfigError, InputError, UnavailableError } from '../runtime/errors.js';
import type {
  Bus,
  BusHeaders,
  BusMessage,
  DurablePublishOptions,
  DurableStreamConfig,
  KvBucket,
  PublishAck,
  ReadStreamOptions,
  StoredMessage,
  SubscribeOptions,
  Subscription,
} from './bus.js';
import { linkSignals } from './linked-signal.js';
import { LiveBuffer } from './live-buffer.js';
import { MemoryKvBucket } from './memory-kv-bucket.js';
import { isValidPattern, isValidSubject, patternsOverlap, subjectMatches } from './subject-syntax.js';
import { WakeSignal } from './wake-signal.js';

/**
 * The in-process bus of the embedded mode: NATS subject semantics, streams with message-id
 * de-duplication and KV buckets, all in memory, in one process.
 */
export interface MemoryBusOptions {
  readonly now?: () => number;
}

const EMPTY: BusHeaders = Object.freeze({});
const DEFAULT_CAPACITY = 10_000;

interface Stream {
  config: Required<DurableStreamConfig>;
  messages: StoredMessage[];
  lastSeq: number;
  ids: Map<string, { seq: number; time: number }>;
  changed: WakeSignal;
}

export class MemoryBus implements Bus {
  private readonly subs = new Set<{ pattern: string; buffer: LiveBuffer }>();
  private readonly streams = new Map<string, Stream>();
  private readonly buckets = new Map<string, MemoryKvBucket>();
  private readonly now: () => number;
  private closed = false;
  private readonly closing = new AbortController();

  constructor(options: MemoryBusOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  publish(subject: string, data: Uint8Array, headers?: BusHeaders): void {
    this.checkOpen();
    if (!isValidSubject(subject)) throw new InputError('bad_subject', `invalid subject '${subject}'`);
    this.deliver({ subject, data, headers: headers ? Object.freeze({ ...headers }) : EMPTY });
  }

  async flush(): Promise<void> {
    this.checkOpen();
  }

  subscribe(subject: string, options: SubscribeOptions = {}): Subscription {
    this.checkOpen();
    if (!isValidPattern(subject)) throw new InputError('bad_subject', `invalid subject pattern '${subject}'`);
    const entry = { pattern: subject, buffer: undefined as unknown as LiveBuffer };
    entry.buffer = new LiveBuffer(subject, options.capacity ?? DEFAULT_CAPACITY, () => this.subs.delete(entry), [
      options.signal,
    ]);
    this.subs.add(entry);
    return entry.buffer;
  }

  async ensureStream(config: DurableStreamConfig): Promise<void> {
    this.checkOpen();
    if (config.subjects.length === 0 || !config.subjects.every(isValidPattern)) {
      throw new ConfigError(`stream ${config.name}: invalid subjects`);
    }
    for (const [name, other] of this.streams) {
      if (name === config.name) continue;
      for (const a of config.subjects)
        for (const b of other.config.subjects)
          if (patternsOverlap(a, b)) throw new ConfigError(`stream ${config.name}: subjects overlap with ${name}`);
    }
    const full: Required<DurableStreamConfig> = {
      name: config.name,
      subjects: [...config.subjects],
      maxAgeMs: config.maxAgeMs ?? 0,
      maxMessages: config.maxMessages ?? 1_000_000,
      duplicateWindowMs: config.duplicateWindowMs ?? 120_000,
    };
    const existing = this.streams.get(config.name);
    if (existing) existing.config = full;
    else
      this.streams.set(config.name, {
        config: full,
        messages: [],
        lastSeq: 0,
        ids: new Map(),
        changed: new WakeSignal(),
      });
  }

  async publishDurable(subject: string, data: Uint8Array, options: DurablePublishOptions): Promise<PublishAck> {
    this.checkOpen();
    if (!isValidSubject(subject)) throw new InputError('bad_subject', `invalid subject '${subject}'`);
    const stream = [...this.streams.values()].find((s) => s.config.subjects.some((p) => subjectMatches(p, subject)));
    if (!stream) throw new ConfigError(`no stream stores subject ${subject}`);
    const headers = options.headers ? Object.freeze({ ...options.headers }) : EMPTY;
    // As on NATS, a durable publish is also a live message for subscribers of its subject,
    // duplicate or not: the stream de-duplicates what it stores, not what flows past it.
    this.deliver({ subject, data, headers });
    const now = this.now();
    this.expire(stream, now);
    const seen = stream.ids.get(options.msgId);
    if (seen && now - seen.time < stream.config.duplicateWindowMs) {
      return { stream: stream.config.name, seq: seen.seq, duplicate: true };
    }
    const msg: StoredMessage = { subject, data, headers, seq: ++stream.lastSeq, time: now };
    stream.messages.push(msg);
    stream.ids.set(options.msgId, { seq: msg.seq, time: now });
    if (stream.messages.length > stream.config.maxMessages) {
      stream.messages.splice(0, stream.messages.length - stream.config.maxMessages);
    }
    stream.changed.fire();
    return { stream: stream.config.name, seq: msg.seq, duplicate: false };
  }

  async *readStream(name: string, options: ReadStreamOptions): AsyncGenerator<StoredMessage> {
    this.checkOpen();
    const stream = this.streams.get(name);
    if (!stream) throw new ConfigError(`unknown stream ${name}`);
    const { signal, unlink } = linkSignals([options.signal, this.closing.signal]);
    let next = options.fromSeq ?? 1;
    try {
      while (!signal.aborted) {
        this.expire(stream, this.now());
        const batch = stream.messages.filter(
          (m) => m.seq >= next && (options.subject === undefined || subjectMatches(options.subject, m.subject)),
        );
        for (const m of batch) {
          if (signal.aborted) return;
          next = m.seq + 1;
          yield m;
        }
        if (batch.length === 0) next = Math.max(next, stream.lastSeq + 1);
        else continue;
        await stream.changed.wait(signal);
      }
    } finally {
      unlink();
    }
  }

  async kv(name: string, options: { readonly create?: boolean } = {}): Promise<KvBucket> {
    this.checkOpen();
    if (!/^[-\w]+$/.test(name)) throw new InputError('bad_bucket', `invalid bucket name '${name}'`);
    let b = this.buckets.get(name);
    if (!b) {
      if (options.create === false) throw new UnavailableError(`memory bus: kv ${name} does not exist yet`);
      b = new MemoryKvBucket(name, this.closing.signal);
      this.buckets.set(name, b);
    }
    return b;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    for (const s of [...this.subs]) s.buffer.unsubscribe();
  }

  private deliver(msg: BusMessage): void {
    for (const s of this.subs) if (subjectMatches(s.pattern, msg.subject)) s.buffer.push(msg);
  }

  private expire(stream: Stream, now: number): void {
    const { maxAgeMs, duplicateWindowMs } = stream.config;
    if (maxAgeMs > 0) {
      const keep = stream.messages.findIndex((m) => now - m.time < maxAgeMs);
      if (keep !== 0) stream.messages.splice(0, keep === -1 ? stream.messages.length : keep);
    }
    for (const [id, v] of stream.ids) {
      if (now - v.time < duplicateWindowMs) break;
      stream.ids.delete(id);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('bus closed');
  }
}

/** The Bus of the embedded mode: subjects, streams and buckets in process. */
export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBus {
  return new MemoryBus(options);
}
