import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { endpoint } from '../harness/env.js';

/*
 * The tests' own kafkajs clients (`new Kafka(...)`, not tickmesh's createKafkaClient) run with the
 * request-queue fix that test/harness/kafkajs-timers.ts applies to every test process: without
 * it, the first response on a connection arms a timer of -Date.now() ms and Node 24 warns
 * (TimeoutNegativeWarning) in every integration, e2e and cluster run.
 */
describe("the tests' own kafkajs clients", () => {
  it('arm no negative timer (no TimeoutNegativeWarning) on a real broker', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const kafka = new Kafka({
        clientId: 'kafkajs-timers',
        brokers: [endpoint('KAFKA_BROKERS')],
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      for (let i = 0; i < 3; i++) await admin.listTopics();
      await admin.disconnect();
      // A warning is emitted on the next tick after the timer is created.
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.startsWith('TimeoutNegativeWarning'))).toEqual([]);
  });
});
