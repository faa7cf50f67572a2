import { randomBytes } from 'node:crypto';
import type { Batch, Consumer, EachBatchPayload, IHeaders } from 'kafkajs';
import type { Logger } from '../observe/logger.js';
import { BoundedQueue } from '../runtime/bounded-queue.js';
import { closeWithin } from '../runtime/close-within.js';
import { ConfigError, UnavailableError } from '../runtime/errors.js';
import { classifyKafkaError, createKafkaClient, type KafkaClientOptions } from './kafka-client.js';
import type { Headers, LogConsumer, LogRecord, RecordBatch } from './log.js';

/**
 * The Log consumer on Kafka with kafkajs, which has no manual partition assignment (BRIEF.md,
 * Kafka consumption): the consumer is the only member of its own group (a unique group id), so
 * it is handed every partition of the topic; it pauses all but the assigned ones and seeks each
 * assigned one to the offset it is given. Offsets are never committed: they live in tickmesh's
 * checkpoints.
 *
 * kafkajs's sharp edges this adapter absorbs (node_modules/kafkajs/src/consumer/):
 * - pause() and seek() only work once run() has created the consumer group; a seek is applied
 *   at the next fetch; a group (re)join builds a new offset manager, forgetting every seek and
 *   resolved offset, and a crash restart forgets pauses too. So the wanted state (positions,
 *   pauses) is kept here and re-applied on every GROUP_JOIN, before fetching resumes.
 * - eachBatch is called for a batch even when its partition was paused after the fetch, and
 *   for batches fetched before a seek (isStale()). Every batch is checked against the state here:
 *   a batch of a partition that is not assigned or paused is dropped unresolved (kafkajs fetches
 *   it again later); a batch that does not start at this adapter's position makes it seek
 *   kafkajs back to the position (a fresh offset manager starts elsewhere) unless kafkajs jumped
 *   forward (the position was deleted by retention), which is logged as a gap and accepted.
 * - pause() with a partition list clears a whole-topic pause, so only explicit lists are used.
 * - With every partition paused, kafkajs sleeps maxWaitTime between empty fetches, and a fetch
 *   in flight holds a resume or an assign until it returns: either waits up to maxWaitTime, so
 *   the default is short (100 ms). A fetch returns early once it has minBytes.
 * - Broker restarts: run() returns before the group is joined when the first join crashed (a
 *   coordinator still loading), so start() waits for the join; and kafkajs restarts itself after
 *   retriable crashes only, while a few outage errors are not (KafkaJSGroupCoordinatorNotFound):
 *   after those it is run again here.
 * - disconnect() is not final: a consumer (re)joining its group when it is called (after a broker
 *   restart, the join waits for the member from before) crashes as disconnect cuts the join, and
 *   kafkajs then schedules a restart after disconnect has cleared the restart timer; 300 ms later
 *   the closed consumer connects again and stays connected, keeping its process alive (the
 *   worker-outage test's linger). restartOnFailure refuses any restart once close() has begun.
 *
 * The hand-off to batches() is bounded: eachBatch waits while `bufferedBatches` batches are
 * waiting, and kafkajs does not fetch again until eachBatch returns, so an iterator that is not
 * consumed stops fetching. While it waits it keeps sending heartbeats.
 */
export interface KafkaConsumerOptions extends KafkaClientOptions {
  readonly topic: string;
  /** Unique per consumer; default `<clientId>-<random>`. Sharing one would split the partitions. */
  readonly groupId?: string;
  /** Batches fetched and waiting for the iterator. Default 2. */
  readonly bufferedBatches?: number;
  /** Longest a fetch waits for data at the broker, and the idle sleep with every partition paused. Default 100 ms. */
  readonly maxWaitTimeMs?: number;
  /**
   * Bytes a fetch waits for at the broker (over all its partitions), up to `maxWaitTimeMs`.
   * Default 1: a fetch returns with the first record, so a quiet topic costs a round trip per record.
   */
  readonly minBytes?: number;
  readonly maxBytesPerPartition?: number;
  readonly maxBytes?: number;
  readonly sessionTimeoutMs?: number;
  /**
   * How long the coordinator waits for the members to rejoin during a rebalance. Default 10 s.
   * After a broker restart the coordinator reloads the group with this consumer's member from
   * before, which kafkajs has forgotten (it rejoins as a new member): the first join waits this
   * long for the old member, or its session timeout if that is shorter. (A shorter session
   * timeout would do the same, but a worker replaying flat out on a loaded machine missed
   * heartbeats for 10 s and was rebalanced.)
   */
  readonly rebalanceTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** How long start() waits for the first group join. Default 60 s. */
  readonly joinTimeoutMs?: number;
}

export interface KafkaConsumerStats {
  /** Fetch requests kafkajs has completed. */
  readonly fetches: number;
  /** Batches waiting in the hand-off for the iterator. */
  readonly buffered: number;
  /** Group joins (the first one, and any rebalance or restart after it). */
  readonly joins: number;
  /** Batches fetched and dropped (paused, unassigned, stale or out of position). */
  readonly dropped: number;
}

interface Item {
  readonly batch: RecordBatch;
  readonly gen: number;
}

function headerValue(v: IHeaders[string]): string | undefined {
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : typeof first === 'string' ? first : first.toString('utf8');
}

function toHeaders(h: IHeaders | undefined): Headers {
  if (!h) return {};
  const out: Record<string, string> = {};
  for (const k of Object.keys(h)) {
    const v = headerValue(h[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const EMPTY = new Uint8Array(0);

export async function createKafkaConsumer(
  options: KafkaConsumerOptions,
): Promise<LogConsumer & { stats(): KafkaConsumerStats }> {
  const c = new KafkaLogConsumer(options);
  await c.start();
  return c;
}

class KafkaLogConsumer implements LogConsumer {
  private readonly consumer: Consumer;
  private readonly topic: string;
  private readonly logger: Logger;
  /** Fetched batches between kafkajs's eachBatch (push) and batches() (shift). */
  private readonly handoff: BoundedQueue<Item>;
  private readonly heartbeatMs: number;
  /** Next offset to hand out, per assigned partition. */
  private readonly positions = new Map<number, bigint>();
  /** Bumped on every assign, unassign and rewind of a partition: older batches of it are stale. */
  private readonly gens = new Map<number, number>();
  private readonly userPaused = new Set<number>();
  /** Every partition of the topic this consumer has seen. */
  private readonly known = new Set<number>();
  private fatal: unknown;
  private closed = false;
  private runConfig: Parameters<Consumer['run']>[0];
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly joinTimeoutMs: number;
  private firstJoin: () => void = () => {};
  private readonly joined = new Promise<void>((resolve) => {
    this.firstJoin = resolve;
  });
  private readonly counters = { fetches: 0, joins: 0, dropped: 0 };

  constructor(options: KafkaConsumerOptions) {
    this.topic = options.topic;
    this.logger = options.logger.child({ component: 'kafka-consumer', topic: options.topic });
    this.handoff = new BoundedQueue<Item>(options.bufferedBatches ?? 2);
    this.heartbeatMs = options.heartbeatIntervalMs ?? 3_000;
    this.joinTimeoutMs = options.joinTimeoutMs ?? 60_000;
    const groupId = options.groupId ?? `${options.clientId}-${randomBytes(6).toString('hex')}`;
    this.consumer = createKafkaClient(options).consumer({
      groupId,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 100,
      minBytes: options.minBytes ?? 1,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      maxBytes: options.maxBytes ?? 10_485_760,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      rebalanceTimeout: options.rebalanceTimeoutMs ?? 10_000,
      heartbeatInterval: this.heartbeatMs,
      allowAutoTopicCreation: false,
      // kafkajs's default retries (5), and no restart after a crash once closing.
      retry: { retries: 5, restartOnFailure: async () => !this.closed },
    });
    this.consumer.on(this.consumer.events.FETCH, () => {
      this.counters.fetches += 1;
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.counters.joins += 1;
      for (const p of e.payload.memberAssignment[this.topic] ?? []) this.known.add(p);
      this.applyState();
      this.firstJoin();
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      // A join or fetch that close() cut short: expected, and not restarted (restartOnFailure).
      if (this.closed) return;
      this.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'kafka consumer crashed');
      if (e.payload.restart) return;
      const err = classifyKafkaError(e.payload.error, 'consumer');
      if (err instanceof UnavailableError && this.runConfig) {
        // kafkajs does not restart after a few errors that only say the broker is not back yet
        // (KafkaJSGroupCoordinatorNotFound after a broker restart, tulios/kafkajs#1630); it has
        // stopped and disconnected, so it can be run again.
        this.restartTimer = setTimeout(() => this.rerun(), 1_000);
        return;
      }
      this.fatal = err;
      this.handoff.close();
      this.handoff.clear();
      this.firstJoin();
    });
  }

  async start(): Promise<void> {
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    } catch (err) {
      await this.disconnect();
      // kafkajs calls an unknown topic retriable (it may be created any moment); here it is a
      // configuration error: topics are created explicitly (LogAdmin.ensureTopic).
      if ((err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') {
        throw new ConfigError(`unknown topic ${this.topic}`, { cause: err });
      }
      throw classifyKafkaError(err, 'consumer connect');
    }
    this.runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    };
    const running = this.consumer.run(this.runConfig);
    // run() has created the consumer group synchronously: pause everything known before the
    // first fetch; GROUP_JOIN re-applies the full state once the assignment is known.
    this.applyState();
    try {
      await running;
    } catch (err) {
      await this.disconnect();
      throw classifyKafkaError(err, 'consumer run');
    }
    // run() returns after the first attempt to join. When that attempt crashed (a group
    // coordinator still loading on a fresh or just restarted broker), kafkajs retries it in the
    // background: wait for the join, which tells the partitions.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.joined,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.joinTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (this.fatal !== undefined || this.known.size === 0) {
      await this.disconnect();
      if (this.fatal !== undefined) throw this.fatal;
      if (this.counters.joins > 0) throw new ConfigError(`topic ${this.topic} has no partitions (does it exist?)`);
      throw new UnavailableError(
        `the consumer of ${this.topic} did not join its group within ${this.joinTimeoutMs} ms`,
      );
    }
  }

  async assign(partition: number, offset: bigint): Promise<void> {
    if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`bad partition ${partition}`);
    if (offset < 0n) throw new RangeError('offset must be >= 0');
    this.known.add(partition);
    this.positions.set(partition, offset);
    this.bump(partition);
    this.seek(partition, offset);
    this.kafka(() =>
      this.userPaused.has(partition)
        ? this.consumer.pause([{ topic: this.topic, partitions: [partition] }])
        : this.consumer.resume([{ topic: this.topic, partitions: [partition] }]),
    );
  }

  async unassign(partition: number): Promise<void> {
    this.positions.delete(partition);
    this.bump(partition);
    this.kafka(() => this.consumer.pause([{ topic: this.topic, partitions: [partition] }]));
  }

  pause(partition: number): void {
    this.userPaused.add(partition);
    this.kafka(() => this.consumer.pause([{ topic: this.topic, partitions: [partition] }]));
  }

  resume(partition: number): void {
    if (!this.userPaused.delete(partition)) return;
    if (this.positions.has(partition)) {
      this.kafka(() => this.consumer.resume([{ topic: this.topic, partitions: [partition] }]));
    }
  }

  async *batches(signal: AbortSignal): AsyncGenerator<RecordBatch> {
    while (!signal.aborted && !this.closed) {
      const item = await this.handoff.shift(signal);
      if (!item) break;
      const p = item.batch.partition;
      if (this.gens.get(p) !== item.gen || !this.positions.has(p)) {
        this.counters.dropped += 1;
        continue;
      }
      if (this.userPaused.has(p)) {
        // Paused after this batch was fetched: put the partition back to the batch's start, so
        // that nothing of it is handed out until resume() and nothing is lost.
        const first = item.batch.records[0]!.offset;
        this.positions.set(p, first);
        this.bump(p);
        this.seek(p, first);
        this.counters.dropped += 1;
        continue;
      }
      yield item.batch;
    }
    if (this.fatal) throw this.fatal;
  }

  stats(): KafkaConsumerStats {
    return { ...this.counters, buffered: this.handoff.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    // Wake eachBatch first: kafkajs's stop waits for the running eachBatch to return.
    this.handoff.close();
    this.handoff.clear();
    await this.disconnect();
  }

  /** Stops kafkajs for good (no restart after it: restartOnFailure), waiting a bounded time. */
  private async disconnect(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    await closeWithin(() => this.consumer.disconnect(), this.logger, 'kafka consumer');
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const p = batch.partition;
    this.known.add(p);
    const pos = this.positions.get(p);
    if (pos === undefined || this.userPaused.has(p)) {
      this.counters.dropped += 1;
      this.kafka(() => this.consumer.pause([{ topic: this.topic, partitions: [p] }]));
      return;
    }
    if (payload.isStale()) {
      this.counters.dropped += 1;
      return;
    }
    // The offset kafkajs asked the broker for (set by Batch's constructor, missing from its types).
    const fetched = BigInt((batch as Batch & { fetchedOffset: string }).fetchedOffset);
    if (fetched < pos) {
      this.counters.dropped += 1;
      this.seek(p, pos);
      return;
    }
    if (fetched > pos) {
      this.logger.warn({ partition: p, expected: String(pos), fetched: String(fetched) }, 'kafka offsets skipped');
    }
    const records = this.records(batch, fetched > pos ? fetched : pos);
    if (records.length === 0) return;
    const last = records[records.length - 1]!.offset;
    const gen = this.gens.get(p) ?? 0;
    this.positions.set(p, last + 1n);
    payload.resolveOffset(last.toString());
    const item: Item = {
      gen,
      batch: { topic: this.topic, partition: p, records, highWatermark: BigInt(batch.highWatermark) },
    };
    while (!(await this.offer(item))) {
      if (this.closed) return;
      await payload.heartbeat().catch(() => {});
    }
  }

  /** Queues the batch, waiting at most a heartbeat interval for room: false when still full or closed. */
  private async offer(item: Item): Promise<boolean> {
    if (this.handoff.isClosed) return false;
    if (this.handoff.tryPush(item)) return true;
    try {
      await this.handoff.push(item, AbortSignal.timeout(this.heartbeatMs));
      return true;
    } catch {
      // push rejects only with QueueClosedError or the timeout's abort.
      return false;
    }
  }

  private rerun(): void {
    if (this.closed) return;
    this.logger.warn('restarting the kafka consumer');
    // A failed start reports through CRASH again, which schedules the next attempt.
    this.consumer.run(this.runConfig).catch((err: unknown) => {
      this.logger.error({ err }, 'kafka consumer restart failed');
      if (!this.closed) this.restartTimer = setTimeout(() => this.rerun(), 1_000);
    });
  }

  private records(batch: Batch, from: bigint): LogRecord[] {
    const out: LogRecord[] = [];
    for (const m of batch.messages) {
      const offset = BigInt(m.offset);
      if (offset < from) continue;
      out.push({
        partition: batch.partition,
        offset,
        key: m.key ? m.key.toString('utf8') : null,
        value: m.value ?? EMPTY,
        headers: toHeaders(m.headers),
        timestamp: Number(m.timestamp),
      });
    }
    return out;
  }

  /** Pauses every known partition that is not assigned (or paused by the caller) and re-seeks the assigned ones. */
  private applyState(): void {
    const paused: number[] = [];
    const active: number[] = [];
    for (const p of this.known) {
      if (this.positions.has(p) && !this.userPaused.has(p)) active.push(p);
      else paused.push(p);
    }
    this.kafka(() => {
      if (paused.length > 0) this.consumer.pause([{ topic: this.topic, partitions: paused }]);
      if (active.length > 0) this.consumer.resume([{ topic: this.topic, partitions: active }]);
    });
    for (const [p, offset] of this.positions) this.seek(p, offset);
  }

  private seek(partition: number, offset: bigint): void {
    this.kafka(() => this.consumer.seek({ topic: this.topic, partition, offset: offset.toString() }));
  }

  private bump(partition: number): void {
    this.gens.set(partition, (this.gens.get(partition) ?? 0) + 1);
  }

  /**
   * Runs a pause/resume/seek. Between a crash and kafkajs's restart the group does not exist and
   * these throw; the state kept here is re-applied on the next GROUP_JOIN.
   */
  private kafka(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.debug({ err }, 'kafka consumer state deferred to the next group join');
    }
  }
}
