import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../observe/logger.js';
import { traceHeaders } from '../observe/tracing.js';
import { closeWithin } from '../runtime/close-within.js';
import { isRetriable, TickmeshError } from '../runtime/errors.js';
import { retry } from '../runtime/retry.js';
import { PRODUCE_RETRY } from '../runtime/retry-policies.js';
import type { LogProducer, OutgoingRecord } from './log.js';

/**
 * What a Kafka client does for the produce queue: its messages, one produce request, its errors.
 * `M` is the client's message type.
 */
export interface ProduceTransport<M> {
  /** The client's messages for one send() call; `trace` (possibly empty) goes on every record. */
  messages(topic: string, records: readonly OutgoingRecord[], trace: Readonly<Record<string, string>>): M[];
  /**
   * One produce request (idempotent, acks from all in-sync replicas) of the messages per topic.
   * Rejects with the client's error; `classify` says whether it is worth sending again.
   */
  produce(topics: ReadonlyMap<string, M[]>): Promise<void>;
  /** A broker outage becomes UnavailableError (retriable); a refusal a named error or itself. */
  classify(err: unknown, what: string): unknown;
  disconnect(): Promise<void>;
}

/** Batching and buffering, the same whatever the client. */
export interface ProduceQueueOptions {
  readonly logger: Logger;
  readonly registry: Registry;
  /** How long a partial batch waits for more records before it is sent. Default 5 ms. */
  readonly lingerMs?: number;
  /** Records per produce request. Default 20,000. */
  readonly maxBatchRecords?: number;
  /** Uncompressed bytes per produce request; keep below the broker's message.max.bytes. Default 900 KiB. */
  readonly maxBatchBytes?: number;
  /** Bytes accepted but not yet acknowledged; send() waits while this is full. Default 64 MiB. */
  readonly maxBufferBytes?: number;
  /** How long close() waits for accepted records to be acknowledged. Default 30 s. */
  readonly closeTimeoutMs?: number;
}

export interface KafkaProducerStats {
  /** Bytes accepted by send() and not yet acknowledged. */
  readonly bufferedBytes: number;
  readonly bufferedRecords: number;
}

interface Pending<M> {
  readonly topic: string;
  readonly messages: M[];
  readonly bytes: number;
  readonly enqueuedAt: number;
  readonly done: Ack;
}

/** Completion of one send() call, which may span several produce requests. */
interface Ack {
  remaining: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const RECORD_OVERHEAD = 64;

function recordBytes(r: OutgoingRecord): number {
  let n = RECORD_OVERHEAD + r.key.length + r.value.byteLength;
  if (r.headers) for (const k in r.headers) n += k.length + (r.headers[k]?.length ?? 0);
  return n;
}

function histogram(registry: Registry, name: string, help: string, labelNames: string[], buckets: number[]) {
  return (
    (registry.getSingleMetric(name) as Histogram<string> | undefined) ??
    new Histogram({ name, help, labelNames, buckets, registers: [registry] })
  );
}

function gauge(registry: Registry, name: string, help: string) {
  return (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry] });
}

/**
 * A LogProducer over any Kafka client's produce request: batched, with a bounded buffer.
 *
 * Guarantees: records of successive send() calls are appended in call order (one produce request
 * in flight at a time: an idempotent producer whose requests to one partition overlap can lose
 * or reorder records when one of them fails, tulios/kafkajs#1005); send() resolves when the
 * broker acknowledged every record of the call on all in-sync replicas. A request that failed
 * with a retriable error is sent again, with backoff, without limit until close(): a broker that
 * is gone shows up as send() waiting for buffer space, never as unbounded memory. A
 * non-retriable error fails that send and every send queued behind it: order can no longer be
 * kept, so the producer refuses further sends and its owner must restart.
 *
 * Every record gets the active trace context (`traceparent`) when there is one; the record's own
 * headers carry its schema (internal/log/record.ts).
 */
export class ProduceQueue<M> implements LogProducer, KafkaProducerStats {
  private readonly lingerMs: number;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly maxBufferBytes: number;
  private readonly logger: Logger;
  private readonly queue: Pending<M>[] = [];
  private readonly spaceWaiters: Array<{ bytes: number; records: number; resolve: () => void }> = [];
  private queuedCount = 0;
  private linger: NodeJS.Timeout | undefined;
  private flushRun: Promise<void> | undefined;
  private readonly closeTimeoutMs: number;
  private failed: unknown;
  private closed = false;
  /** Aborted when close() stops waiting: a request being retried then fails. */
  private readonly abandon = new AbortController();
  bufferedBytes = 0;
  bufferedRecords = 0;
  private readonly latency: Histogram<string>;
  private readonly bufferBytesGauge: Gauge;
  private readonly bufferRecordsGauge: Gauge;

  constructor(
    private readonly transport: ProduceTransport<M>,
    options: ProduceQueueOptions,
  ) {
    this.logger = options.logger;
    this.lingerMs = options.lingerMs ?? 5;
    this.maxBatchRecords = options.maxBatchRecords ?? 20_000;
    this.maxBatchBytes = options.maxBatchBytes ?? 900 * 1024;
    this.maxBufferBytes = options.maxBufferBytes ?? 64 * 1024 * 1024;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 30_000;
    this.latency = histogram(
      options.registry,
      'tickmesh_producer_latency_seconds',
      'Time from send() to the broker acknowledging the records on all in-sync replicas.',
      ['topic'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    );
    this.bufferBytesGauge = gauge(
      options.registry,
      'tickmesh_producer_buffer_bytes',
      'Bytes accepted by the Kafka producer and not yet acknowledged (bounded by its buffer).',
    );
    this.bufferRecordsGauge = gauge(
      options.registry,
      'tickmesh_producer_buffer_records',
      'Records accepted by the Kafka producer and not yet acknowledged.',
    );
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (this.closed) throw new TickmeshError('TM_CLOSED', 'the producer is closed');
    if (this.failed !== undefined) throw this.failed;
    if (records.length === 0) return;
    const messages = this.transport.messages(topic, records, traceHeaders());
    const sizes = new Array<number>(records.length);
    let bytes = 0;
    for (let i = 0; i < records.length; i++) {
      const b = recordBytes(records[i] as OutgoingRecord);
      sizes[i] = b;
      bytes += b;
    }
    await this.admit(bytes, records.length);
    const enqueuedAt = performance.now();
    return new Promise<void>((resolve, reject) => {
      const done: Ack = { remaining: 0, resolve, reject };
      // Split calls larger than one request so that no request exceeds the batch limits.
      let start = 0;
      let chunkBytes = 0;
      for (let i = 0; i < messages.length; i++) {
        const b = sizes[i] as number;
        if (i > start && (i - start >= this.maxBatchRecords || chunkBytes + b > this.maxBatchBytes)) {
          this.enqueue(topic, messages.slice(start, i), chunkBytes, enqueuedAt, done);
          start = i;
          chunkBytes = 0;
        }
        chunkBytes += b;
      }
      this.enqueue(topic, start === 0 ? messages : messages.slice(start), chunkBytes, enqueuedAt, done);
      this.wake();
    });
  }

  /**
   * Reserves buffer space, waiting while the buffer is full. FIFO: a send never overtakes one that
   * waits, so call order holds. A call larger than the whole buffer is admitted into an empty one.
   */
  private async admit(bytes: number, records: number): Promise<void> {
    if (this.spaceWaiters.length > 0 || !this.fits(bytes)) {
      await new Promise<void>((resolve) => this.spaceWaiters.push({ bytes, records, resolve }));
      if (this.failed !== undefined) throw this.failed;
      if (this.closed) throw new TickmeshError('TM_CLOSED', 'the producer is closed');
      return; // release() reserved the space before waking us
    }
    this.reserve(bytes, records);
  }

  private fits(bytes: number): boolean {
    return this.bufferedBytes === 0 || this.bufferedBytes + bytes <= this.maxBufferBytes;
  }

  private reserve(bytes: number, records: number): void {
    this.bufferedBytes += bytes;
    this.bufferedRecords += records;
    this.bufferBytesGauge.set(this.bufferedBytes);
    this.bufferRecordsGauge.set(this.bufferedRecords);
  }

  private enqueue(topic: string, messages: M[], bytes: number, enqueuedAt: number, done: Ack): void {
    done.remaining += 1;
    this.queue.push({ topic, messages, bytes, enqueuedAt, done });
    this.queuedCount += messages.length;
  }

  private wake(): void {
    if (this.flushRun) return;
    if (this.queuedCount >= this.maxBatchRecords) {
      if (this.linger) clearTimeout(this.linger);
      this.linger = undefined;
      void this.flush();
    } else if (!this.linger) {
      this.linger = setTimeout(() => {
        this.linger = undefined;
        void this.flush();
      }, this.lingerMs);
    }
  }

  private flush(): Promise<void> {
    this.flushRun ??= this.drainQueue().finally(() => {
      this.flushRun = undefined;
      if (this.queue.length > 0 && this.failed === undefined && !this.closed) this.wake();
    });
    return this.flushRun;
  }

  /** Sends queued records, one request at a time, until the queue is empty. */
  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0 && this.failed === undefined) {
      const batch: Pending<M>[] = [];
      let records = 0;
      let bytes = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0] as Pending<M>;
        const full = records + next.messages.length > this.maxBatchRecords || bytes + next.bytes > this.maxBatchBytes;
        if (batch.length > 0 && full) break;
        batch.push(next);
        this.queue.shift();
        this.queuedCount -= next.messages.length;
        records += next.messages.length;
        bytes += next.bytes;
      }
      const byTopic = new Map<string, M[]>();
      for (const p of batch) {
        const list = byTopic.get(p.topic);
        if (list) for (const m of p.messages) list.push(m);
        else byTopic.set(p.topic, p.messages.slice());
      }
      let last: unknown;
      try {
        await retry(() => this.transport.produce(byTopic), {
          ...PRODUCE_RETRY,
          signal: this.abandon.signal,
          retriable: (err) => isRetriable(this.transport.classify(err, 'produce')),
          onRetry: (err, attempt) => {
            last = err;
            if (attempt === 1) this.logger.warn({ err }, 'Kafka unavailable; retrying the produce request');
          },
        });
      } catch (err) {
        // Abandoned (close() timed out): the batch fails with the error Kafka gave, not the abort.
        const abandoned = this.abandon.signal.aborted;
        this.fail(abandoned ? (last ?? closedError()) : err, batch);
        return;
      }
      const now = performance.now();
      for (const p of batch) {
        this.latency.observe({ topic: p.topic }, (now - p.enqueuedAt) / 1000);
        this.release(p);
        p.done.remaining -= 1;
        if (p.done.remaining === 0) p.done.resolve();
      }
    }
  }

  private release(p: Pending<M>): void {
    this.reserve(-p.bytes, -p.messages.length);
    while (this.spaceWaiters.length > 0) {
      const w = this.spaceWaiters[0] as { bytes: number; records: number; resolve: () => void };
      if (!this.fits(w.bytes) && this.failed === undefined && !this.closed) break;
      this.spaceWaiters.shift();
      this.reserve(w.bytes, w.records);
      w.resolve();
    }
  }

  private fail(cause: unknown, inFlight: Pending<M>[]): void {
    const classified = this.transport.classify(cause, 'produce');
    const err =
      classified instanceof TickmeshError
        ? classified
        : new TickmeshError('TM_PRODUCE', 'Kafka refused a produce request', { cause });
    this.failed = err;
    this.logger.error({ err: cause }, 'produce failed; the producer refuses further sends');
    this.queuedCount = 0;
    for (const p of [...inFlight, ...this.queue.splice(0)]) {
      this.release(p);
      p.done.reject(err);
    }
    for (const w of this.spaceWaiters.splice(0)) w.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.linger) clearTimeout(this.linger);
    this.linger = undefined;
    for (const w of this.spaceWaiters.splice(0)) w.resolve();
    // What was accepted is flushed first, for a bounded time: a broker that is gone must not hang shutdown.
    let timer: NodeJS.Timeout | undefined;
    const flushed = (async () => {
      while (this.failed === undefined && (this.queue.length > 0 || this.flushRun)) await this.flush();
    })();
    await Promise.race([flushed, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.closeTimeoutMs)))]);
    clearTimeout(timer);
    this.abandon.abort();
    if (this.queue.length > 0) {
      this.fail(closedError(), []);
    }
    await closeWithin(() => this.transport.disconnect(), this.logger, 'kafka producer');
  }
}

function closedError(): TickmeshError {
  return new TickmeshError('TM_CLOSED', 'the producer closed before these records were acknowledged');
}
