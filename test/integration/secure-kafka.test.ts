import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseEndpoints } from '../../internal/config/endpoints.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import type { KafkaClientOptions } from '../../internal/log/kafka-client.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { ConnectionSecurityError, UnavailableError } from '../../internal/runtime/errors.js';
import { Proc } from '../e2e/cluster-support.js';
import { secretFile, strangerCa } from '../harness/certs.js';
import { freshName } from '../harness/env.js';
import { producerRefusal as refusedProducer, kafkaRoundTrip as roundTrip } from '../harness/kafka-round-trip.js';
import { kafkaMutualTlsEnv, type PrivateServers, startPrivateServers } from '../harness/private-servers.js';

// A broker of this file's own with a SASL_SSL listener (PLAIN, SCRAM-SHA-256/512) and a
// mutual-TLS one (test/infra/kafka.sh, TICKMESH_KAFKA_SECURITY=1), certificates of a test CA.
let servers: PrivateServers;
let certs: string;

beforeAll(async () => {
  servers = await startPrivateServers(['kafka'], { TICKMESH_KAFKA_SECURITY: '1' });
  certs = servers.env.TEST_CERTS!;
}, 240_000);

afterAll(async () => {
  await servers?.close();
}, 120_000);

/** Client options as a process gets them: from the environment, through parseEndpoints. */
function fromEnv(env: Record<string, string>): Omit<KafkaClientOptions, 'clientId'> {
  const endpoints = parseEndpoints({}, env);
  return { brokers: endpoints.kafkaBrokers, security: endpoints.kafkaSecurity, logger: silentLogger() };
}

function saslEnv(mechanism: string, password = servers.env.TEST_KAFKA_PASSWORD!): Record<string, string> {
  return {
    KAFKA_BROKERS: servers.env.TEST_KAFKA_SASL_SSL_BROKERS!,
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: servers.env.TEST_KAFKA_USER!,
    KAFKA_SASL_PASSWORD_FILE: secretFile('password', password),
    KAFKA_TLS_CA_FILE: join(certs, 'ca.pem'),
  };
}

function mtlsEnv(): Record<string, string> {
  return kafkaMutualTlsEnv(servers.env);
}

/** The error connecting an admin with `env`, and how long it took. */
async function refusal(env: Record<string, string>): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now();
  const err = await createKafkaAdmin({ ...fromEnv(env), clientId: 'secure-refused' }).then(
    async (a) => {
      await a.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  return { err, ms: performance.now() - t0 };
}

/** The messages and codes of an error's cause chain, for a failing assertion's text. */
function causes(err: unknown): string {
  const out: string[] = [];
  for (
    let e = err as
        | { name?: string; message?: string; code?: string; cause?: unknown; originalError?: unknown }
        | undefined,
      d = 0;
    e && d < 8;
    d++
  ) {
    out.push(`${e.name}: ${e.message} (${e.code ?? ''})`);
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return out.join(' <- ');
}

describe('Kafka with TLS and SASL', () => {
  it('SASL_SSL with SCRAM-SHA-512: admin, producer and consumer work', async () => {
    await roundTrip(fromEnv(saslEnv('SCRAM-SHA-512')));
  }, 90_000);

  it('SASL_SSL with SCRAM-SHA-256 and with PLAIN: the admin connects and reads', async () => {
    for (const mechanism of ['scram-sha-256', 'plain']) {
      const admin = await createKafkaAdmin({ ...fromEnv(saslEnv(mechanism)), clientId: 'secure-admin' });
      const topic = freshName('tm-secure');
      await admin.ensureTopic(topic, 1);
      expect(await admin.partitionCount(topic)).toBe(1);
      await admin.close();
    }
  }, 60_000);

  it('mutual TLS: admin, producer and consumer work with a client certificate', async () => {
    await roundTrip(fromEnv(mtlsEnv()));
  }, 90_000);

  it('the @platformatic/kafka producer: SASL_SSL with SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN, and mutual TLS', async () => {
    for (const mechanism of ['SCRAM-SHA-512', 'scram-sha-256', 'plain']) {
      await roundTrip(fromEnv(saslEnv(mechanism)), 'platformatic');
    }
    await roundTrip(fromEnv(mtlsEnv()), 'platformatic');
  }, 120_000);

  it('the @platformatic/kafka producer refuses a wrong password or a stranger CA with one ConnectionSecurityError', async () => {
    const producerRefusal = async (env: Record<string, string>) => {
      const t0 = performance.now();
      const err = await refusedProducer(fromEnv(env), 'platformatic');
      return { err, ms: performance.now() - t0 };
    };
    const sasl = await producerRefusal(saslEnv('SCRAM-SHA-512', 'not-the-password'));
    expect(sasl.err, causes(sasl.err)).toBeInstanceOf(ConnectionSecurityError);
    expect((sasl.err as Error).message).toMatch(/^kafka: .*SASL authentication failed/);
    expect((sasl.err as ConnectionSecurityError).retriable).toBe(false);
    expect(sasl.ms).toBeLessThan(10_000);
    const ca = await producerRefusal({ ...saslEnv('SCRAM-SHA-512'), KAFKA_TLS_CA_FILE: strangerCa() });
    expect(ca.err, causes(ca.err)).toBeInstanceOf(ConnectionSecurityError);
    expect((ca.err as Error).message).toMatch(/^kafka: .*certificate does not verify/);
  }, 60_000);

  it('a wrong password is one ConnectionSecurityError naming kafka and SASL, not a retry loop', async () => {
    const { err, ms } = await refusal(saslEnv('SCRAM-SHA-512', 'not-the-password'));
    expect(err).toBeInstanceOf(ConnectionSecurityError);
    expect((err as ConnectionSecurityError).server).toBe('kafka');
    expect((err as Error).message).toMatch(/^kafka: .*SASL authentication failed/);
    expect((err as ConnectionSecurityError).retriable).toBe(false);
    expect(ms).toBeLessThan(10_000);
  }, 60_000);

  it('a CA the broker certificate does not chain to is a ConnectionSecurityError about the certificate', async () => {
    const { err } = await refusal({ ...saslEnv('SCRAM-SHA-512'), KAFKA_TLS_CA_FILE: strangerCa() });
    expect(err).toBeInstanceOf(ConnectionSecurityError);
    expect((err as Error).message).toMatch(/^kafka: .*certificate does not verify/);
  }, 60_000);

  it('TLS towards the plain listener is a ConnectionSecurityError about the handshake', async () => {
    const { err } = await refusal({ ...mtlsEnv(), KAFKA_BROKERS: servers.env.KAFKA_BROKERS! });
    expect(err, causes(err)).toBeInstanceOf(ConnectionSecurityError);
    expect((err as Error).message).toMatch(/^kafka: .*TLS handshake failed/);
  }, 60_000);

  it('a plain-text client towards a TLS listener is a ConnectionSecurityError saying the port speaks TLS', async () => {
    // `quiet` is how the roles' StartupGate connects: one attempt, the gate retries.
    const connect = (brokers: string) =>
      createKafkaAdmin({ ...fromEnv({ KAFKA_BROKERS: brokers }), clientId: 'secure-plain', quiet: true }).then(
        (a) => a.close(),
        (e: unknown) => e,
      );
    for (const brokers of [servers.env.TEST_KAFKA_MTLS_BROKERS!, servers.env.TEST_KAFKA_SASL_SSL_BROKERS!]) {
      const t0 = performance.now();
      const err = await connect(brokers);
      expect(err, causes(err)).toBeInstanceOf(ConnectionSecurityError);
      expect((err as Error).message).toMatch(/^kafka: admin connect: .+ speaks TLS and this client plain text/);
      expect(performance.now() - t0).toBeLessThan(5_000);
    }
    // A port where nothing listens stays an outage, retried, not a verdict about TLS.
    const err = await connect('127.0.0.1:1');
    expect(err, causes(err)).toBeInstanceOf(UnavailableError);
  }, 90_000);

  it('tickmesh ingest runs as a process on SASL_SSL: waits for its topics and produces', async () => {
    const env = saslEnv('SCRAM-SHA-512');
    const options = fromEnv(env);
    const base = freshName('tm-secure-ingest');
    const topics = { trades: `${base}.trades`, rejects: `${base}.rejected`, gaps: `${base}.gaps` };
    const admin = await createKafkaAdmin({ ...options, clientId: 'secure-admin' });
    for (const t of Object.values(topics)) await admin.ensureTopic(t, 1);
    const ingest = new Proc(
      'ingest',
      [
        'ingest',
        ...['--venue', 'sim', '--symbols', 'BTC-USD', '--sim-rate', '50', '--metrics-port', '0'],
        ...['--trades-topic', topics.trades, '--rejects-topic', topics.rejects, '--gaps-topic', topics.gaps],
        '--no-klines',
      ],
      { ...process.env, ...env },
    );
    try {
      await vi.waitFor(
        async () => {
          const ends = await admin.endOffsets(topics.trades);
          expect(ends.get(0) ?? 0n, ingest.tail()).toBeGreaterThan(0n);
        },
        { timeout: 60_000, interval: 500 },
      );
    } finally {
      ingest.kill('SIGTERM');
      await ingest.exited;
      await admin.close();
    }
  }, 90_000);
});
