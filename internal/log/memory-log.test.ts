import { describe, expect, it } from 'vitest';
import { defineLogContract } from '../../test/contracts/log-contract.js';
import { createMemoryLog } from './memory-log.js';
import { partitionForKey } from './partitioner.js';

let n = 0;
defineLogContract(
  'memory',
  async () => {
    const log = createMemoryLog();
    return {
      producer: log.producer(),
      admin: log.admin(),
      consumer: async (topic) => log.consumer(topic),
      freshTopic: () => `t${++n}`,
      close: async () => {},
    };
  },
  { arriveMs: 2_000, quietMs: 30 },
);

describe('MemoryLog', () => {
  it('drops the oldest records past its retention and starts a lower position at the oldest kept', async () => {
    const log = createMemoryLog({ retentionRecords: 3 });
    await log.admin().ensureTopic('t', 1);
    const enc = new TextEncoder();
    await log.producer().send(
      't',
      Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: enc.encode(String(i)) })),
    );
    expect(await log.admin().endOffsets('t')).toEqual(new Map([[0, 5n]]));
    const consumer = log.consumer('t');
    await consumer.assign(0, 0n);
    const controller = new AbortController();
    for await (const b of consumer.batches(controller.signal)) {
      expect(b.records.map((r) => r.offset)).toEqual([2n, 3n, 4n]);
      controller.abort();
    }
  });

  it('hands out at most maxBatchRecords per batch and alternates partitions', async () => {
    const log = createMemoryLog();
    await log.admin().ensureTopic('t', 2);
    const enc = new TextEncoder();
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const k0 = keys.find((k) => partitionForKey(k, 2) === 0)!;
    const k1 = keys.find((k) => partitionForKey(k, 2) === 1)!;
    const records = Array.from({ length: 10 }, (_, i) => ({ key: i % 2 ? k1 : k0, value: enc.encode(String(i)) }));
    await log.producer().send('t', records);
    const consumer = log.consumer('t', { maxBatchRecords: 2 });
    await consumer.assign(0, 0n);
    await consumer.assign(1, 0n);
    const controller = new AbortController();
    const order: number[] = [];
    for await (const b of consumer.batches(controller.signal)) {
      expect(b.records.length).toBeLessThanOrEqual(2);
      order.push(b.partition);
      if (order.length === 4) controller.abort();
    }
    expect(new Set(order.slice(0, 2)).size).toBe(2);
  });

  it('rejects an unknown topic', () => {
    const log = createMemoryLog();
    expect(() => log.consumer('nope')).toThrow(/unknown topic/);
  });
});
