import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { parseEndpoints } from '../../internal/config/endpoints.js';
import { Proc } from '../e2e/cluster-support.js';
import { secretFile } from '../harness/certs.js';
import { freshName } from '../harness/env.js';
import { freePort, kafkaMutualTlsEnv, type PrivateServers, startPrivateServers } from '../harness/private-servers.js';
import { type Role, rolesEndToEnd } from './roles-support.js';

// Whole roles on secured servers of this file's own: a nats-server requiring TLS whose users are
// the NKey users of deploy/nats/tickmesh-accounts.conf (each role's permissions as written there,
// its password replaced by a fresh NKey), and a broker with a mutual-TLS listener (test/infra/
// kafka.sh, TICKMESH_KAFKA_SECURITY=1). Each role is given only files: its seed, the CA, and for
// Kafka the client certificate and key. The server knows no user without a key, so a role that
// dropped its credentials would be refused.

const CONF = fileURLToPath(new URL('../../deploy/nats/tickmesh-accounts.conf', import.meta.url));
const users = { worker: nkeys.createUser(), operator: nkeys.createUser(), api: nkeys.createUser() };
let servers: PrivateServers;
let certs: string;
const seeds: Partial<Record<Role, string>> = {};
const buses: Bus[] = [];

beforeAll(async () => {
  const conf = readFileSync(CONF, 'utf8').replace(
    /user: tickmesh-([a-z]+)\n(\s+)password: "[^"]*"/g,
    (_m, role: Role) => `nkey: "${users[role].getPublicKey()}"`,
  );
  if ((conf.match(/nkey: "U/g) ?? []).length !== 3) throw new Error('tickmesh-accounts.conf: expected 3 users');
  servers = await startPrivateServers(['nats', 'kafka'], {
    TICKMESH_NATS_TLS: '1',
    TICKMESH_NATS_CONF_EXTRA: conf,
    TICKMESH_KAFKA_SECURITY: '1',
  });
  certs = servers.env.TEST_CERTS!;
  for (const role of ['worker', 'operator', 'api'] as const) {
    seeds[role] = secretFile(`${role}.nk`, new TextDecoder().decode(users[role].getSeed()));
  }
}, 240_000);

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close().catch(() => {})));
  await servers?.close();
}, 120_000);

/** NATS over TLS as `role`'s NKey user: a URL without credentials, the seed from a file. */
function natsEnv(seedFile: string): Record<string, string> {
  return {
    NATS_URL: servers.env.NATS_URL!,
    NATS_TLS_CA_FILE: join(certs, 'ca.pem'),
    NATS_NKEY_SEED_FILE: seedFile,
  };
}

/** Kafka's mutual-TLS listener: the CA, the client certificate and its key, from files. */
function kafkaEnv(): Record<string, string> {
  return kafkaMutualTlsEnv(servers.env);
}

async function busAs(role: Role): Promise<Bus> {
  const endpoints = parseEndpoints({}, natsEnv(seeds[role]!));
  const bus = await createNatsBus({ servers: endpoints.natsUrl!, security: endpoints.natsSecurity, name: role });
  buses.push(bus);
  return bus;
}

describe('whole roles on TLS NATS with NKey users and Kafka with mutual TLS', () => {
  it('ingest and the worker on mutual TLS, the worker, operator and API as NKey users: candles reach a WebSocket client', async () => {
    const kafkaEndpoints = parseEndpoints({}, kafkaEnv());
    await rolesEndToEnd({
      envOf: (role) =>
        role === 'ingest'
          ? kafkaEnv()
          : role === 'worker'
            ? { ...kafkaEnv(), ...natsEnv(seeds.worker!) }
            : natsEnv(seeds[role]!),
      kafka: { brokers: kafkaEndpoints.kafkaBrokers, security: kafkaEndpoints.kafkaSecurity },
      natsLog: join(servers.dir, 'logs', 'nats.log'),
      busAs,
      feed: 'ingest',
    });
  }, 300_000);

  it('an NKey seed the server does not know: one line naming NATS and the refusal, and not ready', async () => {
    const stranger = secretFile('stranger.nk', new TextDecoder().decode(nkeys.createUser().getSeed()));
    const probePort = await freePort();
    const api = new Proc(
      'api',
      ['api', ...['--port', '0', '--metrics-port', String(probePort), '--host', '127.0.0.1']],
      { ...process.env, LOG_LEVEL: 'info', ...natsEnv(stranger) },
    );
    await refusedOnce(api, probePort, 'nats', /^nats: .*refused the credentials/);
  }, 60_000);

  it('a worker without its Kafka client certificate: one line saying the broker refused it, and not ready', async () => {
    const probePort = await freePort();
    const { KAFKA_TLS_CERT_FILE: _cert, KAFKA_TLS_KEY_FILE: _key, ...withoutCertificate } = kafkaEnv();
    const topic = freshName('no-cert');
    const worker = new Proc(
      'worker',
      [
        'worker',
        ...['--topic', topic, '--schema', topic.replaceAll('-', '_'), '--port', String(probePort)],
        ...['--late-topic', `${topic}.late`, '--rejected-topic', `${topic}.rejected`],
      ],
      { ...process.env, LOG_LEVEL: 'info', ...withoutCertificate, ...natsEnv(seeds.worker!) },
    );
    await refusedOnce(worker, probePort, 'kafka', /^kafka: .*the server refused the client certificate/);
  }, 60_000);
});

/**
 * `proc`, refused by `server`, logs one line naming it and the cause (`detail`), answers 503 on
 * /readyz with the same reason, and keeps running: a restart would not change what it was given.
 */
async function refusedOnce(proc: Proc, probePort: number, server: string, detail: RegExp): Promise<void> {
  try {
    const line = await proc.waitFor(
      'the refusal',
      (l) => l.msg === 'server not available at start; not ready, retrying',
      30_000,
    );
    expect(line, proc.tail()).toMatchObject({ server, error: 'ConnectionSecurityError', retriable: false });
    expect(String(line.detail)).toMatch(detail);
    const ready = await fetch(`http://127.0.0.1:${probePort}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain(`waiting for ${server}: ${String(line.detail).slice(0, 40)}`);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(proc.alive).toBe(true);
    expect(proc.lines.filter((l) => l.msg === line.msg)).toHaveLength(1);
    expect(proc.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  } finally {
    proc.kill('SIGKILL');
  }
}
