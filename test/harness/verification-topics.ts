import type { Kafka } from 'kafkajs';
import type { OutgoingRecord } from '../../internal/log/log.js';
import { encodeKlineRecord, type KlineRecord, klineRecordKey } from '../../internal/verify/kline-record.js';
import { createTradeTopics } from './worker-tables.js';

/**
 * What the tests of live verification through a spawned worker share: its topics and the records
 * put on them as ingest writes them.
 */

/** The trades topic (with its late and rejected topics) and a klines topic of as many partitions. */
export async function createVerificationTopics(
  kafka: Kafka,
  trades: string,
  klines: string,
  partitions: number,
): Promise<void> {
  await createTradeTopics(kafka, trades, partitions);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: klines, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Produces `records` to `topic` in one request of an idempotent producer, in order. */
export async function produceRecords(kafka: Kafka, topic: string, records: readonly OutgoingRecord[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: records.map((r) => ({ key: r.key, value: Buffer.from(r.value), headers: { ...r.headers } })),
    });
  } finally {
    await producer.disconnect();
  }
}

const encoder = new TextEncoder();

/** `kline.v1` records as ingest appends them to the klines topic. */
export function klineOutgoing(list: readonly KlineRecord[]): OutgoingRecord[] {
  return list.map((k) => ({ key: klineRecordKey(k), value: encoder.encode(encodeKlineRecord(k)) }));
}
