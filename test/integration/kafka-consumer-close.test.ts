import { writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { createKafkaConsumer } from '../../internal/log/kafka-consumer.js';
import type { LogConsumer } from '../../internal/log/log.js';
import { createLogger } from '../../internal/observe/logger.js';
import { eventually } from '../harness/eventually.js';
import { type PrivateServers, startPrivateServers } from '../harness/private-servers.js';

/*
 * A consumer closed while kafkajs restarts it after a broker restart (the restart's join waits
 * for the member from before the restart) lets go of the broker for good. kafkajs's disconnect
 * cut the join, the join's crash scheduled another restart after disconnect had cleared the
 * restart timer, and 300 ms later the closed consumer was connected again, for good: the
 * worker-outage test's stopped worker stayed alive on such sockets. The broker is a private one
 * (test/harness/private-servers.ts): the shared one must not be restarted.
 */

/** TCP sockets of this process connected to `port`. */
function socketsTo(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => h instanceof Socket && h.remotePort === port && !h.destroyed).length;
}

describe('kafka consumer close during a restart after a broker restart (real Kafka)', () => {
  let servers: PrivateServers | undefined;
  let brokers: string[];
  let port: number;
  let consumer: LogConsumer | undefined;
  let passed = false;
  const topic = 'close.during.restart';
  const lines: Array<{ time: number; msg: string; detail?: string }> = [];
  const logger = createLogger({
    level: 'debug',
    pretty: false,
    destination: { write: (l: string) => lines.push(JSON.parse(l) as (typeof lines)[number]) },
  });

  beforeAll(async () => {
    servers = await startPrivateServers(['kafka']);
    brokers = (servers.env.KAFKA_BROKERS as string).split(',');
    port = Number((brokers[0] as string).split(':').pop());
    const admin = await createKafkaAdmin({ brokers, clientId: 'close-test-admin', logger });
    await admin.ensureTopic(topic, 1);
    await admin.close();
  }, 600_000);

  afterAll(async () => {
    await consumer?.close();
    if (!passed && servers) {
      writeFileSync(join(servers.dir, 'logs', 'consumer.log'), lines.map((l) => JSON.stringify(l)).join('\n'));
      console.error(`kafka-consumer-close: broker and consumer logs kept in ${servers.dir}/logs`);
    }
    await servers?.close(!passed);
  }, 300_000);

  it('opens no connection after close() returned', async () => {
    const run = servers as PrivateServers;
    consumer = await createKafkaConsumer({ brokers, clientId: 'close-test', logger, topic });
    await consumer.assign(0, 0n);
    expect(socketsTo(port)).toBeGreaterThan(0);

    // Down long enough for kafkajs's retries to run out: the consumer crashes, and kafkajs
    // restarts it every 300 ms until the broker answers again.
    await run.run('kafka', 'stop');
    const stoppedAt = Date.now();
    const restarting = () =>
      lines.some((l) => l.time >= stoppedAt && /Restarting the consumer/.test(l.detail ?? '')) ? true : undefined;
    await eventually('kafkajs to restart the consumer while the broker is away', restarting, 120_000, 100);
    await run.run('kafka', 'start');
    // The restart that reaches the broker joins the group, and the join waits (rebalance timeout,
    // 10 s) for the consumer's member from before the restart.
    await eventually(
      'the restarted consumer to reach the broker',
      () => (socketsTo(port) > 0 ? true : undefined),
      60_000,
      20,
    );
    await new Promise((r) => setTimeout(r, 1_000));

    const closing = performance.now();
    await consumer.close();
    expect(performance.now() - closing).toBeLessThan(11_000);
    // kafkajs restarted a crashed consumer 300 ms after the crash; give it ten times as long.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(socketsTo(port)).toBe(0);
    passed = true;
  }, 180_000);
});
