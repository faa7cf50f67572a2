import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Consumer, Producer } from '@platformatic/kafka';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { MarketSimulator } from '../internal/ingest/simulator.js';
import { APPEND_TIME, createTopicsAndWait } from '../internal/log/kafka-admin.js';
import { fixRequestQueueTimers } from '../internal/log/kafka-request-queue.js';
import type { OutgoingRecord } from '../internal/log/log.js';
import { recordsByMarket } from '../internal/log/trade-batch.js';
import type { Bench, BenchResult } from './bench.js';
import { benchMarkets } from './worker-load.js';

/**
 * kafkajs against @platformatic/kafka on the transport alone: the same trade-batch records (the
 * worker's input, 1,000 simulated markets, the trades of one market in one record as ingest
 * writes them) produced to a fresh 8-partition topic in sends of one simulator batch each (four
 * in flight, acks from every in-sync replica, no compression: kafkajs's zstd is this project's
 * own codec; kafkajs with the request-queue timer fix every tickmesh client applies), then read back from the start by a fresh consumer group until every record is
 * in. CPU per record is process.cpuUsage of this process over each phase (the client alone:
 * the records are built before). The clients alternate, twice each, in one run.
 *
 * KAFKA_BROKERS names the broker (test/infra/up.sh starts one).
 */
const PARTITIONS = 8;
const SEND_TRADES = 20_000;
const INFLIGHT = 4;

type Client = 'kafkajs' | '@platformatic/kafka';

interface Phase {
  readonly cpuS: number;
  readonly wallS: number;
}

function measure<T>(run: () => Promise<T>): Promise<Phase> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return run().then(() => {
    const cpu = process.cpuUsage(cpu0);
    return { cpuS: (cpu.user + cpu.system) / 1e6, wallS: (performance.now() - t0) / 1000 };
  });
}

function buildSends(total: number): { sends: OutgoingRecord[][]; records: number } {
  const sim = new MarketSimulator({
    markets: benchMarkets('KC', 1_000),
    seed: 11,
    startTime: Date.UTC(2024, 0, 1),
    ratePerSecond: 5,
  });
  const sends: OutgoingRecord[][] = [];
  let records = 0;
  for (let sent = 0; sent < total; sent += SEND_TRADES) {
    const trades = Array.from({ length: Math.min(SEND_TRADES, total - sent) }, () => sim.next());
    const batch = recordsByMarket(trades);
    records += batch.length;
    sends.push(batch);
  }
  return { sends, records };
}

async function inFlight<T>(items: readonly T[], send: (item: T) => Promise<unknown>): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (const item of items) {
    pending.push(send(item));
    if (pending.length >= INFLIGHT) await pending.shift();
  }
  await Promise.all(pending);
}

async function kafkajsRound(brokers: string[], topic: string, sends: OutgoingRecord[][], records: number) {
  const kafka = new Kafka({ clientId: 'bench-kafka-client', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const produce = await measure(() =>
    inFlight(sends, (batch) =>
      producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: batch.map((r) => ({ key: r.key, value: Buffer.from(r.value), headers: r.headers })),
      }),
    ),
  );
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `bench-kc-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let bytes = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((ok) => {
    done = ok;
  });
  const consume = await measure(async () => {
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) bytes += m.value?.length ?? 0;
        seen += batch.messages.length;
        if (seen >= records) done();
      },
    });
    await all;
  });
  await consumer.disconnect();
  return { produce, consume, seen, bytes };
}

async function platformaticRound(brokers: string[], topic: string, sends: OutgoingRecord[][], records: number) {
  const producer = new Producer({ clientId: 'bench-kafka-client', bootstrapBrokers: brokers, idempotent: true });
  const produce = await measure(() =>
    inFlight(sends, (batch) =>
      producer.send({
        acks: -1,
        messages: batch.map((r) => ({
          topic,
          key: Buffer.from(r.key),
          value: Buffer.from(r.value),
          headers: new Map(Object.entries(r.headers ?? {}).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
        })),
      }),
    ),
  );
  await producer.close();
  const consumer = new Consumer({
    clientId: 'bench-kafka-client',
    groupId: `bench-kc-${randomBytes(4).toString('hex')}`,
    bootstrapBrokers: brokers,
    maxWaitTime: 100,
  });
  let seen = 0;
  let bytes = 0;
  const consume = await measure(async () => {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    for await (const m of stream) {
      bytes += m.value.length;
      seen++;
      if (seen >= records) break;
    }
    await stream.close();
  });
  await consumer.close(true);
  return { produce, consume, seen, bytes };
}

const bench: Bench = {
  name: 'kafka-client',
  description: 'kafkajs vs @platformatic/kafka: produce and consume the same trade-batch records, CPU per record',
  async run({ quick }): Promise<readonly BenchResult[]> {
    const brokersEnv = process.env.KAFKA_BROKERS;
    if (!brokersEnv) throw new Error('kafka-client bench: set KAFKA_BROKERS (test/infra/up.sh starts a broker)');
    const brokers = brokersEnv.split(',');
    // kafkajs as every tickmesh client runs it (internal/log/kafka-client.ts).
    fixRequestQueueTimers();
    const trades = Number(process.env.TICKMESH_BENCH_KAFKA_TRADES) || (quick ? 100_000 : 1_000_000);
    const { sends, records } = buildSends(trades);
    const admin = new Kafka({ clientId: 'bench-kafka-client', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const results: BenchResult[] = [];
    try {
      const order: Client[] = ['kafkajs', '@platformatic/kafka', 'kafkajs', '@platformatic/kafka'];
      for (const [round, client] of order.entries()) {
        const topic = `bench-kc-${Date.now().toString(36)}-${round}`;
        await createTopicsAndWait(admin, [{ topic, numPartitions: PARTITIONS, configEntries: [...APPEND_TIME] }]);
        const load = loadavg()[0]?.toFixed(1) ?? '';
        const r =
          client === 'kafkajs'
            ? await kafkajsRound(brokers, topic, sends, records)
            : await platformaticRound(brokers, topic, sends, records);
        if (r.seen < records) throw new Error(`${client}: read ${r.seen} of ${records} records`);
        for (const [phase, m] of [
          ['produce', r.produce],
          ['consume', r.consume],
        ] as const) {
          results.push({
            name: `round ${round + 1}, ${client}: ${phase}`,
            value: Math.round((m.cpuS * 1e6) / records),
            unit: 'µs CPU per record',
            details: {
              records,
              trades,
              'MB of record values': (r.bytes / 1e6).toFixed(1),
              'cpu s': m.cpuS.toFixed(2),
              'wall s': m.wallS.toFixed(2),
              'trades per CPU-second': Math.round(trades / m.cpuS),
              'load (1 min) at the start': load,
            },
          });
        }
        await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      }
    } finally {
      await admin.disconnect();
    }
    return results;
  },
};

export default bench;
