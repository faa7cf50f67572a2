import { ConfigError } from '../runtime/errors.js';
import type { LogAdmin, LogConsumer, LogProducer, LogRecord, OutgoingRecord, RecordBatch } from './log.js';
import { partitionForKey } from './partitioner.js';

/**
 * The in-process log of the embedded mode: topics of partitions held in memory, with Kafka's
 * semantics where tickmesh relies on them (murmur2 placement by key, per-partition offsets from
 * 0, consumers positioned by the caller, never by a group). Retention is bounded by a record
 * count per partition; a position below the oldest kept record starts at the oldest one, as a
 * Kafka consumer reset to earliest would.
 */
export interface MemoryLogOptions {
  /** Records kept per partition before the oldest are dropped. Default 1,000,000. */
  readonly retentionRecords?: number;
  /** Append-time clock, Unix epoch ms. */
  readonly now?: () => number;
}

export interface MemoryConsumerOptions {
  /** Most records in one batch. Default 10,000. */
  readonly maxBatchRecords?: number;
}

const EMPTY_HEADERS = Object.freeze({});

class PartitionLog {
  private records: LogRecord[] = [];
  private head = 0;
  /** Offset of records[head]. */
  startOffset = 0n;

  constructor(
    readonly partition: number,
    private readonly retention: number,
  ) {}

  get endOffset(): bigint {
    return this.startOffset + BigInt(this.records.length - this.head);
  }

  append(key: string, value: Uint8Array, headers: LogRecord['headers'], timestamp: number): void {
    this.records.push({ partition: this.partition, offset: this.endOffset, key, value, headers, timestamp });
    const kept = this.records.length - this.head;
    if (kept > this.retention) {
      const drop = kept - this.retention;
      for (let i = this.head; i < this.head + drop; i++) this.records[i] = undefined as unknown as LogRecord;
      this.head += drop;
      this.startOffset += BigInt(drop);
      if (this.head > 4096 && this.head * 2 > this.records.length) {
        this.records = this.records.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Up to `max` records from `offset` (clamped to the start), or an empty list at the end. */
  read(offset: bigint, max: number): LogRecord[] {
    const from = offset < this.startOffset ? this.startOffset : offset;
    const i = this.head + Number(from - this.startOffset);
    return this.records.slice(i, Math.min(i + max, this.records.length));
  }
}

class Topic {
  readonly partitions: PartitionLog[];
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    count: number,
    retention: number,
  ) {
    this.partitions = Array.from({ length: count }, (_, p) => new PartitionLog(p, retention));
  }

  onAppend(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify(): void {
    for (const fn of [...this.listeners]) fn();
  }
}

export class MemoryLog {
  private readonly topics = new Map<string, Topic>();
  private readonly retention: number;
  private readonly now: () => number;

  constructor(options: MemoryLogOptions = {}) {
    this.retention = options.retentionRecords ?? 1_000_000;
    if (!Number.isInteger(this.retention) || this.retention < 1) throw new ConfigError('retentionRecords must be >= 1');
    this.now = options.now ?? Date.now;
  }

  producer(): LogProducer {
    let closed = false;
    return {
      send: async (topic, records) => {
        if (closed) throw new Error('producer closed');
        this.append(topic, records);
      },
      close: async () => {
        closed = true;
      },
    };
  }

  admin(): LogAdmin {
    return {
      ensureTopic: async (name, partitions) => {
        if (!Number.isInteger(partitions) || partitions < 1) throw new ConfigError('partitions must be >= 1');
        const existing = this.topics.get(name);
        if (existing && existing.partitions.length !== partitions) {
          throw new ConfigError(
            `topic ${name} has ${existing.partitions.length} partitions, ${partitions} were asked for`,
          );
        }
        if (!existing) this.topics.set(name, new Topic(name, partitions, this.retention));
      },
      partitionCount: async (name) => this.topic(name).partitions.length,
      endOffsets: async (name) => new Map(this.topic(name).partitions.map((p) => [p.partition, p.endOffset])),
      close: async () => {},
    };
  }

  /** A consumer of `topic` that reads only what it is assigned. The topic must exist. */
  consumer(topic: string, options: MemoryConsumerOptions = {}): LogConsumer {
    return new MemoryConsumer(this.topic(topic), options.maxBatchRecords ?? 10_000);
  }

  private topic(name: string): Topic {
    const t = this.topics.get(name);
    if (!t) throw new ConfigError(`unknown topic ${name}`);
    return t;
  }

  private append(name: string, records: readonly OutgoingRecord[]): void {
    const t = this.topic(name);
    const timestamp = this.now();
    const n = t.partitions.length;
    for (const r of records) {
      const log = t.partitions[partitionForKey(r.key, n)]!;
      log.append(r.key, r.value, r.headers ? Object.freeze({ ...r.headers }) : EMPTY_HEADERS, timestamp);
    }
    if (records.length > 0) t.notify();
  }
}

class MemoryConsumer implements LogConsumer {
  /** Next offset to hand out, per assigned partition. */
  private readonly positions = new Map<number, bigint>();
  private readonly paused = new Set<number>();
  private cursor = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly unlisten: () => void;

  constructor(
    private readonly topic: Topic,
    private readonly maxBatchRecords: number,
  ) {
    this.unlisten = topic.onAppend(() => this.poke());
  }

  async assign(partition: number, offset: bigint): Promise<void> {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.topic.partitions.length) {
      throw new RangeError(`partition ${partition} is not a partition of ${this.topic.name}`);
    }
    if (offset < 0n) throw new RangeError('offset must be >= 0');
    this.positions.set(partition, offset);
    this.poke();
  }

  async unassign(partition: number): Promise<void> {
    this.positions.delete(partition);
  }

  pause(partition: number): void {
    this.paused.add(partition);
  }

  resume(partition: number): void {
    if (this.paused.delete(partition)) this.poke();
  }

  async *batches(signal: AbortSignal): AsyncGenerator<RecordBatch> {
    const onAbort = (): void => this.poke();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted && !this.closed) {
        const batch = this.next();
        if (batch) {
          yield batch;
          continue;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unlisten();
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** The next batch, taking assigned unpaused partitions in turn so none starves. */
  private next(): RecordBatch | undefined {
    const active = [...this.positions.keys()].filter((p) => !this.paused.has(p)).sort((a, b) => a - b);
    for (let i = 0; i < active.length; i++) {
      const partition = active[(this.cursor + i) % active.length]!;
      const log = this.topic.partitions[partition]!;
      const records = log.read(this.positions.get(partition)!, this.maxBatchRecords);
      if (records.length === 0) continue;
      this.cursor = (this.cursor + i + 1) % active.length;
      this.positions.set(partition, records[records.length - 1]!.offset + 1n);
      return { topic: this.topic.name, partition, records, highWatermark: log.endOffset };
    }
    return undefined;
  }
}

/** The Log of the embedded mode: topics in process, with the same contract as Kafka. */
export function createMemoryLog(options: MemoryLogOptions = {}): MemoryLog {
  return new MemoryLog(options);
}
