import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { ALERTS_STREAM, CANDLES_STREAM, candleSubject } from '../../internal/bus/subject-names.js';
import { tradeRecord } from '../../internal/log/record.js';
import { PLACEMENT_BUCKET, PLACEMENT_KV_KEY, releaseKey } from '../../internal/operator/kv-placement.js';
import { Proc } from '../e2e/cluster-support.js';
import { endpoint, freshName } from '../harness/env.js';
import { type PrivateServers, startPrivateServers } from '../harness/private-servers.js';
import { createTradeTopics } from '../harness/worker-tables.js';
import { createWorkerPod, freshNamespace, kubeConfig, setPodReady } from './operator-support.js';

// The example least-privilege server config deploy/nats/tickmesh-accounts.conf, on a nats-server
// of this file's own (its bcrypt placeholders replaced by plain passwords): each role's user does
// what that role does, and is refused what it must not do: a worker cannot write the placement,
// the API cannot publish candles nor write the bucket.

const CONF = fileURLToPath(new URL('../../deploy/nats/tickmesh-accounts.conf', import.meta.url));
let servers: PrivateServers;
const buses: Bus[] = [];

beforeAll(async () => {
  const conf = readFileSync(CONF, 'utf8').replace(
    /user: (tickmesh-[a-z]+)\n(\s+)password: "[^"]*"/g,
    (_m, user: string, indent: string) => `user: ${user}\n${indent}password: "${user}-secret"`,
  );
  servers = await startPrivateServers(['nats'], { TICKMESH_NATS_CONF_EXTRA: conf });
}, 120_000);

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close().catch(() => {})));
  await servers?.close();
}, 60_000);

/** The private server's URL with `role`'s user and password in it. */
function urlAs(role: 'worker' | 'operator' | 'api'): string {
  const url = new URL(servers.env.NATS_URL ?? '');
  url.username = `tickmesh-${role}`;
  url.password = `tickmesh-${role}-secret`;
  return url.href;
}

async function busAs(role: 'worker' | 'operator' | 'api'): Promise<Bus> {
  const bus = await createNatsBus({ servers: urlAs(role), name: `perm-${role}` });
  buses.push(bus);
  return bus;
}

/** Whether `subscriber` receives what `publisher` publishes on `subject` within a short wait. */
async function delivered(publisher: Bus, subscriber: Bus, subject: string): Promise<boolean> {
  const ac = new AbortController();
  const sub = subscriber.subscribe(subject, { signal: ac.signal });
  await subscriber.flush();
  publisher.publish(subject, new TextEncoder().encode('x'));
  await publisher.flush().catch(() => {});
  const timer = setTimeout(() => ac.abort(), 1_000);
  try {
    for await (const _m of sub) return true;
    return false;
  } finally {
    clearTimeout(timer);
  }
}

const candle = candleSubject('partial', { interval: '1m', exchange: 'binance', symbol: 'BTCUSDT' });
const enc = (s: string) => new TextEncoder().encode(s);

describe('deploy/nats/tickmesh-accounts.conf: whole processes (first, before any bucket exists)', () => {
  it('whole processes under their users: the operator places, a worker follows and publishes, the API streams', async () => {
    // The server's log from here on: a refused publish or subscription is logged there as a
    // "Permissions Violation" (the cases above cause some on purpose).
    const natsLog = join(servers.dir, 'logs', 'nats.log');
    const logFrom = statSync(natsLog).size;
    const kc = kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const ns = await freshNamespace(kc, 'nats-roles');
    const procs: Proc[] = [];
    const stop = new AbortController();
    const kafka = new Kafka({
      clientId: 'nats-roles',
      brokers: endpoint('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    let producing: Promise<void> = Promise.resolve();
    let ws: WebSocket | undefined;
    try {
      await createWorkerPod(core, ns.name, 'w-0');
      await setPodReady(core, ns.name, 'w-0', true);
      const topic = freshName('nats-roles');
      await createTradeTopics(kafka, topic, 2);
      const schema = freshName('nats_roles').replaceAll('-', '_');
      const as = (role: 'worker' | 'operator' | 'api') => ({
        ...process.env,
        LOG_LEVEL: 'info',
        NATS_URL: urlAs(role),
      });
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
      socket.send(JSON.stringify({ subscribe: { candles: { interval: '1s', exchange: 'binance-futures' } } }));

      await producer.connect();
      producing = (async () => {
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
        })
        .toBe(2);
      // The placement the operator wrote, as the worker's user reads it.
      const kv = await (await busAs('worker')).kv(PLACEMENT_BUCKET);
      const placement = new TextDecoder().decode((await kv.get(PLACEMENT_KV_KEY))?.value);
      expect(placement).toContain('w-0');
      // Nothing any role did was refused.
      const since = readFileSync(natsLog).subarray(logFrom).toString();
      expect(since.split('\n').filter((l) => /Permissions Violation/i.test(l))).toEqual([]);
    } finally {
      stop.abort();
      await producing.catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      ws?.terminate();
      for (const p of procs) p.kill('SIGKILL');
      await ns.delete();
    }
  }, 240_000);
});

describe('deploy/nats/tickmesh-accounts.conf: least privilege per role', () => {
  it('the operator owns the placement; a worker reads it and writes only its release keys', async () => {
    const operator = await busAs('operator');
    const placement = await operator.kv(PLACEMENT_BUCKET);
    await placement.put(PLACEMENT_KV_KEY, enc('{"v":1}'));

    const worker = await busAs('worker');
    const seen = await worker.kv(PLACEMENT_BUCKET);
    expect(new TextDecoder().decode((await seen.get(PLACEMENT_KV_KEY))?.value)).toBe('{"v":1}');
    await seen.put(releaseKey(3), enc('worker-0'));
    expect(new TextDecoder().decode((await placement.get(releaseKey(3)))?.value)).toBe('worker-0');
    await expect(seen.put(PLACEMENT_KV_KEY, enc('{"forged":true}'))).rejects.toThrow(
      /Permissions Violation|timeout|TIMEOUT/i,
    );
    expect(new TextDecoder().decode((await placement.get(PLACEMENT_KV_KEY))?.value)).toBe('{"v":1}');
  }, 60_000);

  it('a worker publishes candles and keeps the streams; the API reads them and cannot publish', async () => {
    const worker = await busAs('worker');
    const api = await busAs('api');
    await worker.ensureStream(CANDLES_STREAM);
    await worker.ensureStream(ALERTS_STREAM);
    expect(await delivered(worker, api, candle)).toBe(true);
    expect(await delivered(api, worker, candle)).toBe(false);
    // Nor a heartbeat (the autoscaler reads their lag) nor the placement bucket.
    const operator = await busAs('operator');
    expect(await delivered(api, operator, 'tickmesh.worker.alive.forged')).toBe(false);
    const forge = async () => (await api.kv(PLACEMENT_BUCKET)).put(PLACEMENT_KV_KEY, enc('{}'));
    await expect(forge()).rejects.toThrow(/Permissions Violation/);
  }, 60_000);
});
