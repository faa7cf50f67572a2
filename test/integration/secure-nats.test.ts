import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../internal/bus/bus.js';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { parseEndpoints } from '../../internal/config/endpoints.js';
import { ConnectionSecurityError } from '../../internal/runtime/errors.js';
import { secretFile, serverCertFor, strangerCa } from '../harness/certs.js';
import { endpoint, freshName } from '../harness/env.js';
import { freePort, type PrivateServers, startPrivateServers } from '../harness/private-servers.js';

// A nats-server of this file's own that requires TLS (the test CA) and knows a password user
// and an NKey user (test/infra/nats.sh, TICKMESH_NATS_TLS=1 and TICKMESH_NATS_CONF_EXTRA).
const nkeyUser = nkeys.createUser();
let servers: PrivateServers;
let ca: string;
let hostPort: string;

beforeAll(async () => {
  servers = await startPrivateServers(['nats'], {
    TICKMESH_NATS_TLS: '1',
    TICKMESH_NATS_CONF_EXTRA: `authorization {
  users = [
    { user: "alice", password: "alice-secret" }
    { nkey: "${nkeyUser.getPublicKey()}" }
  ]
}`,
  });
  ca = join(servers.env.TEST_CERTS!, 'ca.pem');
  hostPort = servers.env.NATS_URL!.replace(/^tls:\/\//, '');
}, 120_000);

afterAll(async () => {
  await servers?.close();
}, 60_000);

/** A bus as a process builds it: the settings from the environment, through parseEndpoints. */
function busFromEnv(env: Record<string, string>): Promise<Bus> {
  const endpoints = parseEndpoints({}, env);
  return createNatsBus({ servers: endpoints.natsUrl!, security: endpoints.natsSecurity, name: 'secure-nats' });
}

/** Publishes on a fresh subject and receives it on the same bus. */
async function roundTrip(bus: Bus): Promise<void> {
  const subject = freshName('secure.nats');
  const sub = bus.subscribe(subject);
  await bus.flush();
  bus.publish(subject, new TextEncoder().encode('hello'));
  await bus.flush();
  for await (const m of sub) {
    expect(new TextDecoder().decode(m.data)).toBe('hello');
    break;
  }
  await bus.close();
}

async function refusal(env: Record<string, string>): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now();
  const err = await busFromEnv(env).then(
    async (b) => {
      await b.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  return { err, ms: performance.now() - t0 };
}

describe('NATS with TLS and credentials', () => {
  it('user and password in a tls:// URL: connects over TLS and delivers', async () => {
    await roundTrip(await busFromEnv({ NATS_URL: `tls://alice:alice-secret@${hostPort}`, NATS_TLS_CA_FILE: ca }));
  }, 30_000);

  it('user from NATS_USER, password from a file', async () => {
    await roundTrip(
      await busFromEnv({
        NATS_URL: `tls://${hostPort}`,
        NATS_TLS_CA_FILE: ca,
        NATS_USER: 'alice',
        NATS_PASSWORD_FILE: secretFile('password', 'alice-secret'),
      }),
    );
  }, 30_000);

  it('an NKey seed file', async () => {
    const seed = secretFile('user.nk', new TextDecoder().decode(nkeyUser.getSeed()));
    await roundTrip(
      await busFromEnv({ NATS_URL: `tls://${hostPort}`, NATS_TLS_CA_FILE: ca, NATS_NKEY_SEED_FILE: seed }),
    );
  }, 30_000);

  it('a wrong password is one ConnectionSecurityError naming nats', async () => {
    const { err, ms } = await refusal({ NATS_URL: `tls://alice:wrong@${hostPort}`, NATS_TLS_CA_FILE: ca });
    expect(err).toBeInstanceOf(ConnectionSecurityError);
    expect((err as ConnectionSecurityError).server).toBe('nats');
    expect((err as Error).message).toMatch(/^nats: .*refused the credentials/);
    expect(ms).toBeLessThan(10_000);
  }, 30_000);

  it('no credentials at all is refused the same way', async () => {
    const { err } = await refusal({ NATS_URL: `tls://${hostPort}`, NATS_TLS_CA_FILE: ca });
    expect(err).toBeInstanceOf(ConnectionSecurityError);
  }, 30_000);

  it('a CA the server certificate does not chain to is a ConnectionSecurityError about the certificate', async () => {
    const { err } = await refusal({ NATS_URL: `tls://alice:alice-secret@${hostPort}`, NATS_TLS_CA_FILE: strangerCa() });
    expect(err).toBeInstanceOf(ConnectionSecurityError);
    expect((err as Error).message).toMatch(/^nats: .*certificate does not verify/);
  }, 30_000);

  it('a server at an address its certificate does not name is refused, even if it names localhost', async () => {
    // The client gives Node no server name for an IP address; Node would check `localhost`.
    const cert = serverCertFor('localhost');
    const port = await freePort();
    const server = spawn(
      'nats-server',
      ['-a', '127.0.0.1', '-p', String(port), '--tls', '--tlscert', cert.cert, '--tlskey', cert.key],
      { stdio: 'ignore' },
    );
    try {
      await waitForPort(port);
      const { err } = await refusal({ NATS_URL: `tls://127.0.0.1:${port}`, NATS_TLS_CA_FILE: cert.ca });
      expect(err).toBeInstanceOf(ConnectionSecurityError);
      expect((err as Error).message).toMatch(/^nats: .*certificate does not verify.*ALTNAME/);
    } finally {
      server.kill('SIGKILL');
    }
  }, 30_000);

  it('a tls:// URL towards a plain server fails instead of talking plain text', async () => {
    const plain = endpoint('NATS_URL').replace(/^nats:\/\//, 'tls://');
    const { err } = await refusal({ NATS_URL: plain });
    expect(err, `${(err as Error).message} <- ${String((err as Error).cause)}`).toBeInstanceOf(ConnectionSecurityError);
    expect((err as Error).message).toMatch(/^nats: .*TLS/);
  }, 30_000);
});

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}
