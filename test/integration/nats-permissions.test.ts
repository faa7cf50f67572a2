import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { ALERTS_STREAM, CANDLES_STREAM, candleSubject } from '../../internal/bus/subject-names.js';
import { PLACEMENT_BUCKET, PLACEMENT_KV_KEY, releaseKey } from '../../internal/operator/kv-placement.js';
import { endpoint } from '../harness/env.js';
import { type PrivateServers, startPrivateServers } from '../harness/private-servers.js';
import { rolesEndToEnd } from './roles-support.js';

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
    await rolesEndToEnd({
      envOf: (role): Record<string, string> => (role === 'ingest' ? {} : { NATS_URL: urlAs(role) }),
      kafka: { brokers: endpoint('KAFKA_BROKERS').split(',') },
      natsLog: join(servers.dir, 'logs', 'nats.log'),
      busAs,
    });
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
