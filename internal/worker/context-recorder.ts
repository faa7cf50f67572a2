import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Bus } from '../bus/bus.js';
import { contextSubject } from '../bus/subject-names.js';
import { type ContextTopics, SCHEMA_HEADER } from '../ingest/context/records.js';
import type { LogAdmin, LogConsumer, RecordBatch } from '../log/log.js';
import type { ContextKind, NewsRecord, ReferenceRecord, SentimentRecord } from '../market/context.js';
import type { Component } from '../runtime/component.js';
import { retry } from '../runtime/retry.js';
import { COMMIT_RETRY, OUTPUT_RETRY } from '../runtime/retry-policies.js';
import type { Cache } from '../sink/cache.js';
import type { ContextStore } from '../sink/context-store.js';

export interface ContextRecorderDeps {
  readonly topics: Pick<ContextTopics, ContextKind>;
  /** A consumer of one topic (one per context topic, opened at start). */
  readonly consumer: (topic: string) => Promise<LogConsumer>;
  readonly admin: Pick<LogAdmin, 'ensureTopic' | 'partitionCount'>;
  readonly store: Pick<ContextStore, 'commitContext' | 'contextOffset'>;
  readonly bus: Pick<Bus, 'publish'>;
  readonly cache?: Pick<Cache, 'putReferences'>;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** Whether this worker records the context topics now (one worker does; see ownerOf). */
  readonly owns: () => boolean;
  /** How often ownership is looked at again. */
  readonly recheckMs?: number;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const SCHEMAS: Readonly<Record<string, ContextKind>> = {
  'reference.v1': 'reference',
  'sentiment.v1': 'sentiment',
  'news.v1': 'news',
};

/**
 * Reads the context topics (reference data, sentiment, news; internal/ingest/context) into the
 * context tables, exactly once: each batch of a partition is committed with the partition's
 * next offset in one transaction (ContextStore.commitContext), and a restart reads on from the
 * committed offset. Rows are keyed, so records read again (a crash between the commit and the
 * next batch, or two workers recording during a membership change) add nothing. What a commit
 * stored for the first time goes out on NATS (`tickmesh.context.<kind>.<key>`) for the context
 * actors, and reference data to the cache; both at least once.
 *
 * A record that does not decode is counted and logged and its offset passed: the context rejects
 * topic is ingest's, for what ingest could not read; what reaches the topic was written by it.
 */
export class ContextRecorder implements Component {
  private readonly controller = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly log: Logger;
  private readonly stored: Counter<'kind'>;
  private readonly undecodable: Counter<'topic'>;

  constructor(private readonly deps: ContextRecorderDeps) {
    this.log = deps.logger.child({ component: 'context-recorder' });
    const registers = deps.registry ? [deps.registry] : [];
    this.stored = new Counter({
      name: 'tickmesh_worker_context_records_stored_total',
      help: 'Context records stored for the first time, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.undecodable = new Counter({
      name: 'tickmesh_worker_context_records_undecodable_total',
      help: 'Context records that did not decode and were passed',
      labelNames: ['topic'],
      registers,
    });
  }

  /**
   * Starts recording in the background and resolves at once: joining the three topics takes a
   * consumer each, and the worker's partitions need not wait for them.
   */
  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.controller.abort(), { once: true });
    for (const kind of ['reference', 'sentiment', 'news'] as const)
      this.loops.push(this.record(this.deps.topics[kind]));
  }

  /** Ensures the topic, opens its consumer, and follows ownership and reads until closed. */
  private async record(topic: string): Promise<void> {
    let consumer: LogConsumer;
    let partitions: number;
    try {
      const signal = this.controller.signal;
      partitions = await retry(
        async () => {
          await this.deps.admin.ensureTopic(topic, 1);
          return this.deps.admin.partitionCount(topic);
        },
        { ...OUTPUT_RETRY, signal, onRetry: (err) => this.log.warn({ err, topic }, 'context topic not ready') },
      );
      consumer = await retry(() => this.deps.consumer(topic), { ...OUTPUT_RETRY, signal });
    } catch (err) {
      if (!this.controller.signal.aborted) this.log.error({ err, topic }, 'context topic not recorded');
      return;
    }
    await Promise.all([this.follow(topic, partitions, consumer), this.read(topic, consumer)]);
  }

  async drain(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    this.controller.abort();
    await Promise.allSettled(this.loops);
  }

  /** Assigns the topic's partitions from their committed offsets while this worker owns them; unassigns otherwise. */
  private async follow(topic: string, partitions: number, consumer: LogConsumer): Promise<void> {
    const signal = this.controller.signal;
    let assigned = false;
    try {
      while (!signal.aborted) {
        const owns = this.deps.owns();
        if (owns && !assigned) {
          for (let p = 0; p < partitions; p++) {
            const offset = await retry(() => this.deps.store.contextOffset(topic, p), { ...COMMIT_RETRY, signal });
            await consumer.assign(p, offset ?? 0n);
          }
          assigned = true;
          this.log.info({ topic, partitions }, 'recording context topic');
        } else if (!owns && assigned) {
          for (let p = 0; p < partitions; p++) await consumer.unassign(p);
          assigned = false;
          this.log.info({ topic }, 'context topic recorded elsewhere');
        }
        await sleep(this.deps.recheckMs ?? 1_000, undefined, { signal }).catch(() => {});
      }
    } catch (err) {
      if (!signal.aborted) this.log.error({ err, topic }, 'context topic assignment failed');
    } finally {
      await consumer.close().catch(() => {});
    }
  }

  private async read(topic: string, consumer: LogConsumer): Promise<void> {
    const signal = this.controller.signal;
    try {
      for await (const batch of consumer.batches(signal)) await this.commit(batch, signal);
    } catch (err) {
      if (!signal.aborted) this.log.error({ err, topic }, 'context topic reader failed');
    }
  }

  private async commit(batch: RecordBatch, signal: AbortSignal): Promise<void> {
    const last = batch.records.at(-1);
    if (last === undefined) return;
    const references: ReferenceRecord[] = [];
    const sentiment: SentimentRecord[] = [];
    const news: NewsRecord[] = [];
    for (const r of batch.records) {
      const kind = SCHEMAS[r.headers[SCHEMA_HEADER] ?? ''];
      let value: unknown;
      try {
        value = JSON.parse(decoder.decode(r.value));
      } catch {
        value = undefined;
      }
      if (kind === undefined || value === null || typeof value !== 'object') {
        this.undecodable.inc({ topic: batch.topic });
        this.log.warn({ topic: batch.topic, offset: r.offset.toString() }, 'undecodable context record passed');
        continue;
      }
      if (kind === 'reference') references.push(value as ReferenceRecord);
      else if (kind === 'sentiment') sentiment.push(value as SentimentRecord);
      else news.push(value as NewsRecord);
    }
    const stored = await retry(
      () =>
        this.deps.store.commitContext({
          topic: batch.topic,
          partition: batch.partition,
          nextOffset: last.offset + 1n,
          references,
          sentiment,
          news,
        }),
      {
        ...COMMIT_RETRY,
        signal,
        onRetry: (err) => this.log.warn({ err, topic: batch.topic }, 'context commit retried'),
      },
    );
    this.stored.inc({ kind: 'reference' }, stored.references.length);
    this.stored.inc({ kind: 'sentiment' }, stored.sentiment.length);
    this.stored.inc({ kind: 'news' }, stored.news.length);
    try {
      for (const r of stored.references) this.publish(contextSubject('reference', r.asset), r);
      for (const s of stored.sentiment) this.publish(contextSubject('sentiment', s.index), s);
      for (const n of stored.news) this.publish(contextSubject('news', n.source), n);
    } catch (err) {
      this.log.warn({ err }, 'context records not published');
    }
    if (this.deps.cache && stored.references.length > 0) {
      await this.deps.cache
        .putReferences(stored.references)
        .catch((err: unknown) => this.log.warn({ err }, 'reference data not cached'));
    }
  }

  private publish(subject: string, record: object): void {
    this.deps.bus.publish(subject, encoder.encode(JSON.stringify(record)));
  }
}

/** Makes a ContextRecorder: components are made by their create* factory. */
export function createContextRecorder(deps: ContextRecorderDeps): ContextRecorder {
  return new ContextRecorder(deps);
}
