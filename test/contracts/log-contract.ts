import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type {
  LogAdmin,
  LogConsumer,
  LogProducer,
  LogRecord,
  OutgoingRecord,
  RecordBatch,
} from '../../internal/log/log.js';
import { partitionForKey } from '../../internal/log/partitioner.js';

/**
 * The one test suite every Log adapter passes (the in-process log in the unit project, Kafka
 * in the integration project). A consumer is positioned only by assign(); nothing depends on
 * consumer groups or committed offsets.
 */
export interface LogSubject {
  readonly producer: LogProducer;
  readonly admin: LogAdmin;
  consumer(topic: string): Promise<LogConsumer>;
  freshTopic(): string;
  close(): Promise<void>;
}

export interface LogContractOptions {
  /** How long to wait for records that should arrive (a Kafka consumer joins a group first). */
  readonly arriveMs: number;
  /** How long to watch for records that must not arrive. */
  readonly quietMs: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function rec(key: string, value: string, headers?: Record<string, string>): OutgoingRecord {
  return headers ? { key, value: enc.encode(value), headers } : { key, value: enc.encode(value) };
}

/** Keys that land on `partition` of `partitions`, found with the same partitioner the log uses. */
function keysFor(partition: number, partitions: number, count: number, prefix = 'k'): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}:${i}`;
    if (partitionForKey(key, partitions) === partition) keys.push(key);
  }
  return keys;
}

/**
 * Pulls batches from one iterator into a list; `until` waits for a condition, `quiet` checks
 * nothing more arrives. One reader per consumer, stopped with stop().
 */
class Reader {
  readonly records: LogRecord[] = [];
  readonly batches: RecordBatch[] = [];
  private readonly controller = new AbortController();
  private readonly done: Promise<void>;
  private error: unknown;

  constructor(consumer: LogConsumer) {
    this.done = (async () => {
      try {
        for await (const b of consumer.batches(this.controller.signal)) {
          this.batches.push(b);
          this.records.push(...b.records);
        }
      } catch (err) {
        this.error = err;
      }
    })();
  }

  values(partition?: number): string[] {
    return this.records
      .filter((r) => partition === undefined || r.partition === partition)
      .map((r) => dec.decode(r.value));
  }

  /** Waits for `pred`: fails at once on the reader's error, and after `ms` saying what was read. */
  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const check = () => {
      if (this.error) throw this.error;
      return pred();
    };
    await vi.waitUntil(check, { timeout: ms, interval: 20 }).catch((err: unknown) => {
      throw (
        this.error ?? new Error(`timed out waiting for ${what}; have ${JSON.stringify(this.values())}`, { cause: err })
      );
    });
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.done;
    if (this.error) throw this.error;
  }
}

export function defineLogContract(name: string, make: () => Promise<LogSubject>, opts: LogContractOptions): void {
  describe(`Log contract: ${name}`, () => {
    let log: LogSubject;
    beforeAll(async () => {
      log = await make();
    });
    afterAll(async () => {
      await log?.close();
    });

    /**
     * Runs `body` with a consumer of `topic` that has the partitions of `from` assigned at their
     * offsets (those in `paused` paused first) and a Reader of it; stops both whatever happens.
     */
    async function reading(
      topic: string,
      from: Readonly<Record<number, bigint>>,
      body: (reader: Reader, consumer: LogConsumer) => Promise<void>,
      paused: readonly number[] = [],
    ): Promise<void> {
      const consumer = await log.consumer(topic);
      for (const p of paused) consumer.pause(p);
      for (const [p, offset] of Object.entries(from)) await consumer.assign(Number(p), offset);
      const reader = new Reader(consumer);
      try {
        await body(reader, consumer);
      } finally {
        await reader.stop();
        await consumer.close();
      }
    }

    /** A fresh topic of two partitions, key `a` on 0 and `b` on 1, holding a0 and b0. */
    async function twoPartitions(): Promise<{ topic: string; a: string; b: string }> {
      const topic = log.freshTopic();
      await log.admin.ensureTopic(topic, 2);
      const [a] = keysFor(0, 2, 1) as [string];
      const [b] = keysFor(1, 2, 1) as [string];
      await log.producer.send(topic, [rec(a, 'a0'), rec(b, 'b0')]);
      return { topic, a, b };
    }

    it('ensureTopic is idempotent and refuses a different partition count', async () => {
      const topic = log.freshTopic();
      await log.admin.ensureTopic(topic, 3);
      await log.admin.ensureTopic(topic, 3);
      expect(await log.admin.partitionCount(topic)).toBe(3);
      await expect(log.admin.ensureTopic(topic, 4)).rejects.toThrow();
      const ends = await log.admin.endOffsets(topic);
      expect([...ends.entries()].sort()).toEqual([
        [0, 0n],
        [1, 0n],
        [2, 0n],
      ]);
    });

    it('places each key on the partition of the murmur2 partitioner and counts offsets per partition', async () => {
      const topic = log.freshTopic();
      await log.admin.ensureTopic(topic, 4);
      const keys = ['binance:BTCUSDT', 'binance:ETHUSDT', 'coinbase:BTC-USD', 'kraken:BTC/USD', 'sim:SIM-1'];
      const records = keys.flatMap((k) => [rec(k, `${k}#0`), rec(k, `${k}#1`)]);
      await log.producer.send(topic, records);
      const expected = new Map<number, bigint>([0, 1, 2, 3].map((p) => [p, 0n]));
      for (const k of keys) {
        const p = partitionForKey(k, 4);
        expected.set(p, expected.get(p)! + 2n);
      }
      expect(await log.admin.endOffsets(topic)).toEqual(expected);

      await reading(topic, { 0: 0n, 1: 0n, 2: 0n, 3: 0n }, async (reader) => {
        await reader.until(() => reader.records.length === records.length, opts.arriveMs, 'all records');
        for (const r of reader.records) {
          expect(r.key).not.toBeNull();
          expect(r.partition).toBe(partitionForKey(r.key!, 4));
        }
        // Per key, order of appending is the order of offsets.
        for (const k of keys) {
          const mine = reader.records.filter((r) => r.key === k);
          expect(mine.map((r) => dec.decode(r.value))).toEqual([`${k}#0`, `${k}#1`]);
          expect(mine[1]!.offset).toBeGreaterThan(mine[0]!.offset);
        }
      });
    });

    it('round-trips keys, values, headers and append time; batches carry the high watermark', async () => {
      const topic = log.freshTopic();
      await log.admin.ensureTopic(topic, 1);
      const before = Date.now();
      await log.producer.send(topic, [rec('a', 'one', { 'tm-v': '1', traceparent: '00-abc-def-01' }), rec('b', '')]);
      await reading(topic, { 0: 0n }, async (reader) => {
        await reader.until(() => reader.records.length === 2, opts.arriveMs, 'two records');
        const [one, two] = reader.records;
        expect(one).toMatchObject({
          partition: 0,
          offset: 0n,
          key: 'a',
          headers: { 'tm-v': '1', traceparent: '00-abc-def-01' },
        });
        expect(dec.decode(one!.value)).toBe('one');
        expect(two).toMatchObject({ partition: 0, offset: 1n, key: 'b', headers: {} });
        expect(two!.value.length).toBe(0);
        expect(one!.timestamp).toBeGreaterThanOrEqual(before - 5_000);
        expect(one!.timestamp).toBeLessThanOrEqual(Date.now() + 5_000);
        const last = reader.batches[reader.batches.length - 1]!;
        expect(last.topic).toBe(topic);
        expect(last.highWatermark).toBe(2n);
      });
    });

    it('reads only the assigned subset, each from its given offset', async () => {
      const topic = log.freshTopic();
      await log.admin.ensureTopic(topic, 3);
      const k0 = keysFor(0, 3, 1)[0]!;
      const k1 = keysFor(1, 3, 1)[0]!;
      const k2 = keysFor(2, 3, 1)[0]!;
      const batch: OutgoingRecord[] = [];
      for (let i = 0; i < 5; i++) batch.push(rec(k0, `p0-${i}`), rec(k1, `p1-${i}`), rec(k2, `p2-${i}`));
      await log.producer.send(topic, batch);

      await reading(topic, { 0: 3n, 2: 0n }, async (reader, consumer) => {
        await reader.until(() => reader.records.length >= 7, opts.arriveMs, 'p0 from 3 and all of p2');
        await new Promise((r) => setTimeout(r, opts.quietMs));
        expect(reader.values(0)).toEqual(['p0-3', 'p0-4']);
        expect(reader.values(1)).toEqual([]);
        expect(reader.values(2)).toEqual(['p2-0', 'p2-1', 'p2-2', 'p2-3', 'p2-4']);

        // Records appended later arrive on the assigned partitions only.
        await log.producer.send(topic, [rec(k0, 'p0-5'), rec(k1, 'p1-5'), rec(k2, 'p2-5')]);
        await reader.until(() => reader.records.length >= 9, opts.arriveMs, 'live records');
        await new Promise((r) => setTimeout(r, opts.quietMs));
        expect(reader.values(0)).toEqual(['p0-3', 'p0-4', 'p0-5']);
        expect(reader.values(1)).toEqual([]);
        expect(reader.values(2)).toEqual(['p2-0', 'p2-1', 'p2-2', 'p2-3', 'p2-4', 'p2-5']);

        // Assigning a partition later starts it at the given offset, not at the log's default.
        await consumer.assign(1, 4n);
        await reader.until(() => reader.values(1).length >= 2, opts.arriveMs, 'late-assigned p1');
        expect(reader.values(1)).toEqual(['p1-4', 'p1-5']);
      });
    });

    it('pause holds a partition at its position while the others flow; resume continues without loss or repeat', async () => {
      const { topic, a, b } = await twoPartitions();
      await reading(topic, { 0: 0n, 1: 0n }, async (reader, consumer) => {
        await reader.until(() => reader.records.length === 2, opts.arriveMs, 'a0 and b0');
        consumer.pause(0);
        await log.producer.send(topic, [rec(a, 'a1'), rec(b, 'b1'), rec(a, 'a2'), rec(b, 'b2')]);
        await reader.until(() => reader.values(1).length === 3, opts.arriveMs, 'b1 b2 while a is paused');
        await new Promise((r) => setTimeout(r, opts.quietMs));
        expect(reader.values(0)).toEqual(['a0']);

        consumer.resume(0);
        await reader.until(() => reader.values(0).length === 3, opts.arriveMs, 'a1 a2 after resume');
        await new Promise((r) => setTimeout(r, opts.quietMs));
        expect(reader.values(0)).toEqual(['a0', 'a1', 'a2']);
        expect(reader.values(1)).toEqual(['b0', 'b1', 'b2']);
        const offsets0 = reader.records.filter((r) => r.partition === 0).map((r) => r.offset);
        expect(offsets0).toEqual([0n, 1n, 2n]);
      });
    });

    it('assign on a running partition seeks it (back to replay, forward to skip)', async () => {
      const topic = log.freshTopic();
      await log.admin.ensureTopic(topic, 1);
      await log.producer.send(
        topic,
        Array.from({ length: 6 }, (_, i) => rec('k', `v${i}`)),
      );
      await reading(topic, { 0: 0n }, async (reader, consumer) => {
        await reader.until(() => reader.records.length === 6, opts.arriveMs, 'v0..v5');
        await consumer.assign(0, 2n);
        await reader.until(() => reader.records.length === 10, opts.arriveMs, 'replay from 2');
        expect(reader.values().slice(6)).toEqual(['v2', 'v3', 'v4', 'v5']);
        await log.producer.send(topic, [rec('k', 'v6'), rec('k', 'v7'), rec('k', 'v8')]);
        await reader.until(() => reader.records.length === 13, opts.arriveMs, 'v6..v8');
        // Forward: skip records that were appended while the partition was paused.
        consumer.pause(0);
        await log.producer.send(topic, [rec('k', 'v9'), rec('k', 'v10'), rec('k', 'v11')]);
        await consumer.assign(0, 11n);
        consumer.resume(0);
        await reader.until(() => reader.values().includes('v11'), opts.arriveMs, 'v11');
        await new Promise((r) => setTimeout(r, opts.quietMs));
        expect(reader.values().slice(13)).toEqual(['v11']);
      });
    });

    it('a paused partition that is seeked resumes from the new position', async () => {
      const topic = log.freshTopic();
      await log.admin.ensureTopic(topic, 1);
      await log.producer.send(topic, [rec('k', 'v0'), rec('k', 'v1'), rec('k', 'v2')]);
      await reading(
        topic,
        { 0: 1n },
        async (reader, consumer) => {
          await new Promise((r) => setTimeout(r, opts.quietMs));
          expect(reader.records).toEqual([]);
          consumer.resume(0);
          await reader.until(() => reader.records.length === 2, opts.arriveMs, 'v1 v2');
          expect(reader.values()).toEqual(['v1', 'v2']);
        },
        [0],
      );
    });

    it('unassign stops a partition; batches already handed out stay', async () => {
      const { topic, a, b } = await twoPartitions();
      await reading(topic, { 0: 0n, 1: 0n }, async (reader, consumer) => {
        await reader.until(() => reader.records.length === 2, opts.arriveMs, 'a0 b0');
        await consumer.unassign(0);
        await log.producer.send(topic, [rec(a, 'a1'), rec(b, 'b1')]);
        await reader.until(() => reader.values(1).length === 2, opts.arriveMs, 'b1');
        await new Promise((r) => setTimeout(r, opts.quietMs));
        expect(reader.values(0)).toEqual(['a0']);
      });
    });

    it('the batch iterator ends when its signal aborts', async () => {
      const topic = log.freshTopic();
      await log.admin.ensureTopic(topic, 1);
      const consumer = await log.consumer(topic);
      await consumer.assign(0, 0n);
      const controller = new AbortController();
      const seen: RecordBatch[] = [];
      const loop = (async () => {
        for await (const b of consumer.batches(controller.signal)) seen.push(b);
      })();
      setTimeout(() => controller.abort(), 100);
      await expect(loop).resolves.toBeUndefined();
      expect(seen).toEqual([]);
      await consumer.close();
    });
  });
}
