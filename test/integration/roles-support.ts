import { readFileSync, statSync } from 'node:fs';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { Bus } from '../../internal/bus/bus.js';
import { createKafkaClient, type KafkaClientOptions } from '../../internal/log/kafka-client.js';
import { tradeRecord } from '../../internal/log/record.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { PLACEMENT_BUCKET, PLACEMENT_KV_KEY } from '../../internal/operator/kv-placement.js';
import { Proc } from '../e2e/cluster-support.js';
import { endpoint, freshName } from '../harness/env.js';
import { createTradeTopics } from '../harness/worker-tables.js';
import { createWorkerPod, freshNamespace, kubeConfig, setPodReady } from './operator-support.js';

/** The roles that talk to NATS, each as its own user. */
export type Role = 'worker' | 'operator' | 'api';

/** How the roles reach their servers in one run of {@link rolesEndToEnd}. */
export interface RolesSetup {
  /** Each role's environment beyond the shared servers': its NATS user (and, for the worker, Kafka). */
  readonly envOf: (role: Role | 'ingest') => Readonly<Record<string, string>>;
  /** The Kafka the worker reads, as the test's admin and producer reach it. */
  readonly kafka: Pick<KafkaClientOptions, 'brokers' | 'security'>;
  /** The nats-server's log: no `Permissions Violation` may appear in it from the start on. */
  readonly natsLog: string;
  /** A bus as `role`'s user, for reading what the roles wrote. */
  readonly busAs: (role: Role) => Promise<Bus>;
  /**
   * Who writes the trades: the test's producer (two binance-futures markets), or a `tickmesh
   * ingest --venue sim` process (two simulated markets) with `envOf('ingest')`.
   */
  readonly feed?: 'producer' | 'ingest';
}

/**
 * Whole processes, each under its own NATS user of deploy/nats/tickmesh-accounts.conf: a
 * `tickmesh worker --placement operator` started before the placement bucket exists waits for it
 * (its user may not create it), a `tickmesh operator` makes the bucket and places both partitions
 * on the worker, and the worker's closed 1s candles of the trades fed to Kafka reach a WebSocket
 * client of a `tickmesh api`; the server logs no permission violation.
 */
export async function rolesEndToEnd(setup: RolesSetup): Promise<void> {
  // The server's log from here on: a refused publish or subscription is logged there as a
  // "Permissions Violation".
  const logFrom = statSync(setup.natsLog).size;
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const ns = await freshNamespace(kc, 'nats-roles');
  const procs: Proc[] = [];
  const stop = new AbortController();
  const kafka = createKafkaClient({ clientId: 'nats-roles', ...setup.kafka, logger: silentLogger() });
  const producer = kafka.producer();
  let producing: Promise<void> = Promise.resolve();
  let ws: WebSocket | undefined;
  try {
    await createWorkerPod(core, ns.name, 'w-0');
    await setPodReady(core, ns.name, 'w-0', true);
    const topic = freshName('nats-roles');
    await createTradeTopics(kafka, topic, 2);
    const feed = setup.feed ?? 'producer';
    const exchange = feed === 'ingest' ? 'sim' : 'binance-futures';
    const schema = freshName('nats_roles').replaceAll('-', '_');
    const as = (role: Role | 'ingest') => ({ ...process.env, LOG_LEVEL: 'info', ...setup.envOf(role) });
    const worker = new Proc(
      'worker',
      [
        'worker',
        ...['--topic', topic, '--schema', schema, '--port', '0', '--intervals', '1s,1m'],
        ...['--late-topic', `${topic}.late`, '--rejected-topic', `${topic}.rejected`],
        ...['--placement', 'operator', '--pod-name', 'w-0'],
      ],
      as('worker'),
    );
    procs.push(worker);
    // Before the operator made the bucket: the worker waits for it (its user may not create it).
    await worker.waitFor(
      'the worker waiting for the bucket',
      (l) => l.msg === 'no placement bucket yet; waiting for the operator',
      60_000,
    );
    const operator = new Proc(
      'operator',
      [
        'operator',
        ...['--kubeconfig', endpoint('KUBECONFIG'), '--namespace', ns.name, '--partitions', '2'],
        ...['--lease-duration', '3', '--renew-deadline', '2000', '--retry-period', '500', '--metrics-port', '0'],
      ],
      as('operator'),
    );
    procs.push(operator);
    const api = new Proc(
      'api',
      ['api', ...['--port', '0', '--metrics-port', '0', '--host', '127.0.0.1', '--schema', schema]],
      as('api'),
    );
    procs.push(api);
    const apiUrl = String((await api.waitFor('api listening', (l) => typeof l.url === 'string', 60_000)).url);
    // The worker runs both partitions the operator placed on it.
    await worker.waitFor('worker running', (l) => l.msg === 'worker running', 90_000);

    ws = new WebSocket(`${apiUrl.replace('http', 'ws')}/api/v1/stream`);
    const socket = ws;
    const candles: Array<{ symbol?: string; closed?: boolean }> = [];
    socket.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { type?: string; data?: { symbol?: string; closed?: boolean } };
      if (m.type === 'candle' && m.data) candles.push(m.data);
    });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ subscribe: { candles: { interval: '1s', exchange } } }));

    if (feed === 'ingest') {
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        topics: [`${topic}.ingest-rejected`, `${topic}.gaps`].map((t) => ({ topic: t, numPartitions: 1 })),
        waitForLeaders: true,
      });
      await admin.disconnect();
      const ingest = new Proc(
        'ingest',
        [
          'ingest',
          ...['--venue', 'sim', '--symbols', 'BTC-USD,ETH-USD', '--sim-rate', '50', '--metrics-port', '0'],
          ...['--trades-topic', topic, '--rejects-topic', `${topic}.ingest-rejected`, '--gaps-topic', `${topic}.gaps`],
          '--no-klines',
        ],
        as('ingest'),
      );
      procs.push(ingest);
    } else {
      await producer.connect();
    }
    producing = (async () => {
      if (feed === 'ingest') return;
      for (let id = 1; !stop.signal.aborted; id++) {
        const now = Date.now();
        const trades = ['BTCUSDT', 'ETHUSDT'].map((symbol) => ({
          exchange: 'binance-futures',
          symbol,
          market: `${symbol.replace('USDT', '')}-USDT`,
          tradeId: String(id),
          price: (100 + (id % 7)).toFixed(2),
          size: '0.5',
          side: 'buy' as const,
          eventTime: now,
          receiveTime: now,
        }));
        const records = trades.map((t) => tradeRecord(t));
        await producer.send({
          topic,
          messages: records.map((r) => ({ key: r.key, value: Buffer.from(r.value), headers: { ...r.headers } })),
        });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // Both markets' closed 1s candles: the worker published them, the API relayed them.
    await expect
      .poll(() => new Set(candles.filter((c) => c.closed).map((c) => c.symbol)).size, {
        timeout: 60_000,
        interval: 250,
        message: procs.map((p) => `${p.name}:\n${p.tail(15)}`).join('\n'),
      })
      .toBe(2);
    // The placement the operator wrote, as the worker's user reads it.
    const kv = await (await setup.busAs('worker')).kv(PLACEMENT_BUCKET);
    const placement = new TextDecoder().decode((await kv.get(PLACEMENT_KV_KEY))?.value);
    expect(placement).toContain('w-0');
    // Nothing any role did was refused.
    const since = readFileSync(setup.natsLog).subarray(logFrom).toString();
    expect(since.split('\n').filter((l) => /Permissions Violation/i.test(l))).toEqual([]);
  } finally {
    stop.abort();
    await producing.catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    ws?.terminate();
    for (const p of procs) p.kill('SIGKILL');
    await ns.delete();
  }
}
