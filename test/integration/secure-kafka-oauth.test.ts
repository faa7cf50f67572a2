import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoints } from '../../internal/config/endpoints.js';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import type { KafkaClientOptions } from '../../internal/log/kafka-client.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { ConnectionSecurityError } from '../../internal/runtime/errors.js';
import { secretFile } from '../harness/certs.js';
import { freshName } from '../harness/env.js';
import { kafkaRoundTrip, producerRefusal } from '../harness/kafka-round-trip.js';
import { type PrivateServers, startPrivateServers } from '../harness/private-servers.js';

// A broker of this file's own whose SASL_SSL listener also offers OAUTHBEARER, validating tokens
// as Confluent Cloud and Strimzi do: Kafka's OAuthBearerValidatorCallbackHandler fetches the
// JWKS of an identity provider (here a stand-in in this process that also serves the
// client-credentials token endpoint) and checks signature, audience and expiry
// (test/infra/kafka.sh, TICKMESH_KAFKA_OAUTH_JWKS_URL).

const AUDIENCE = 'tickmesh-kafka';
const ISSUER = 'tickmesh-test-idp';
const CLIENT = { id: 'tickmesh-worker', secret: 'worker-secret' };

interface IdentityProvider {
  readonly url: string;
  tokenRequests: number;
  jwt(claims: Record<string, unknown>, key?: KeyObject): string;
  close(): Promise<void>;
}

async function startIdentityProvider(): Promise<IdentityProvider> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  const jwt = (claims: Record<string, unknown>, key: KeyObject = privateKey) => {
    const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${part({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${part({ iss: ISSUER, iat: Math.floor(Date.now() / 1000), ...claims })}`;
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  };
  const idp = { url: '', tokenRequests: 0, jwt, close: async () => {} } as IdentityProvider;
  const server: Server = createServer((req, res) => {
    if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    if (req.url === '/token' && req.method === 'POST') {
      idp.tokenRequests++;
      const [user, pass] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      if (decodeURIComponent(user ?? '') !== CLIENT.id || decodeURIComponent(pass ?? '') !== CLIENT.secret) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      const now = Math.floor(Date.now() / 1000);
      const token = jwt({ sub: CLIENT.id, aud: AUDIENCE, iat: now, exp: now + 300, scope: 'kafka' });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 300 }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  Object.assign(idp, {
    url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  return idp;
}

let idp: IdentityProvider;
let servers: PrivateServers;

beforeAll(async () => {
  idp = await startIdentityProvider();
  servers = await startPrivateServers(['kafka'], {
    TICKMESH_KAFKA_SECURITY: '1',
    TICKMESH_KAFKA_OAUTH_JWKS_URL: `${idp.url}/jwks`,
  });
}, 240_000);

afterAll(async () => {
  await servers?.close();
  await idp?.close();
}, 120_000);

function oauthEnv(extra: Record<string, string>): Record<string, string> {
  return {
    KAFKA_BROKERS: servers.env.TEST_KAFKA_SASL_SSL_BROKERS ?? '',
    KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
    KAFKA_SASL_MECHANISM: 'oauthbearer',
    KAFKA_TLS_CA_FILE: join(servers.env.TEST_CERTS ?? '', 'ca.pem'),
    ...extra,
  };
}

function fromEnv(env: Record<string, string>): Omit<KafkaClientOptions, 'clientId'> {
  const endpoints = parseEndpoints({}, env);
  return { brokers: endpoints.kafkaBrokers, security: endpoints.kafkaSecurity, logger: silentLogger() };
}

function clientCredentials(secret = CLIENT.secret): Record<string, string> {
  return oauthEnv({
    KAFKA_OAUTH_TOKEN_ENDPOINT: `${idp.url}/token`,
    KAFKA_OAUTH_CLIENT_ID: CLIENT.id,
    KAFKA_OAUTH_CLIENT_SECRET_FILE: secretFile('client-secret', secret),
    KAFKA_OAUTH_SCOPE: 'kafka',
  });
}

/** The error of an admin connecting with `env`, or undefined when it connects. */
async function refusal(env: Record<string, string>): Promise<unknown> {
  return createKafkaAdmin({ ...fromEnv(env), clientId: 'oauth-refused' }).then(
    async (a) => {
      await a.close();
      return undefined;
    },
    (e: unknown) => e,
  );
}

async function adminWorks(env: Record<string, string>): Promise<void> {
  const admin = await createKafkaAdmin({ ...fromEnv(env), clientId: 'oauth-admin' });
  try {
    const topic = freshName('tm-oauth');
    await admin.ensureTopic(topic, 1);
    expect(await admin.partitionCount(topic)).toBe(1);
  } finally {
    await admin.close();
  }
}

const now = () => Math.floor(Date.now() / 1000);

describe('Kafka SASL OAUTHBEARER, tokens validated against a JWKS', () => {
  it('client credentials: admin, producer and consumer work; one token serves every connection', async () => {
    const before = idp.tokenRequests;
    await kafkaRoundTrip(fromEnv(clientCredentials()));
    // Each client has a provider of its own: one token request per client, not per connection.
    expect(idp.tokenRequests - before).toBeGreaterThanOrEqual(1);
    expect(idp.tokenRequests - before).toBeLessThanOrEqual(3);
  }, 90_000);

  it('the @platformatic/kafka producer: client credentials work, a forged token is refused by name', async () => {
    await kafkaRoundTrip(fromEnv(clientCredentials()), 'platformatic');
    const { privateKey: stranger } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = secretFile('token', idp.jwt({ sub: 'tickmesh-ingest', aud: AUDIENCE, exp: now() + 300 }, stranger));
    const err = await producerRefusal(fromEnv(oauthEnv({ KAFKA_OAUTH_TOKEN_FILE: forged })), 'platformatic');
    expect(err).toBeInstanceOf(ConnectionSecurityError);
    expect((err as Error).message).toMatch(/^kafka: .*refused the OAUTHBEARER token \(.*invalid_token/);
  }, 90_000);

  it('a token file is read at every authentication: a rotated token takes effect, a bad one is refused', async () => {
    const file = secretFile('token', idp.jwt({ sub: 'tickmesh-ingest', aud: AUDIENCE, exp: now() + 300 }));
    const env = oauthEnv({ KAFKA_OAUTH_TOKEN_FILE: file });
    await adminWorks(env);

    // Signed by a key the JWKS does not hold: the broker refuses it.
    const { privateKey: stranger } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(file, idp.jwt({ sub: 'tickmesh-ingest', aud: AUDIENCE, exp: now() + 300 }, stranger));
    const forged = await refusal(env);
    expect(forged).toBeInstanceOf(ConnectionSecurityError);
    expect((forged as Error).message).toMatch(/^kafka: broker .* refused the OAUTHBEARER token \(.*invalid_token/);

    // The kubelet rotates the projected token: the next connection uses the new one.
    writeFileSync(file, idp.jwt({ sub: 'tickmesh-ingest', aud: AUDIENCE, exp: now() + 300 }));
    await adminWorks(env);

    // Another audience: refused by the broker.
    writeFileSync(file, idp.jwt({ sub: 'tickmesh-ingest', aud: 'someone-else', exp: now() + 300 }));
    expect(await refusal(env)).toBeInstanceOf(ConnectionSecurityError);
  }, 90_000);

  it('an expired token and a refused client secret: one ConnectionSecurityError naming Kafka and the cause', async () => {
    const expired = await refusal(
      oauthEnv({
        KAFKA_OAUTH_TOKEN_FILE: secretFile('token', idp.jwt({ sub: 'x', aud: AUDIENCE, exp: now() - 60 })),
      }),
    );
    expect(expired).toBeInstanceOf(ConnectionSecurityError);
    expect((expired as Error).message).toMatch(/^kafka: the OAUTHBEARER token in .* expired at/);
    expect((expired as ConnectionSecurityError).retriable).toBe(false);

    const refused = await refusal(clientCredentials('wrong-secret'));
    expect(refused).toBeInstanceOf(ConnectionSecurityError);
    expect((refused as Error).message).toMatch(
      /^kafka: the OAuth token endpoint .* refused client tickmesh-worker \(401\)/,
    );
  }, 60_000);
});
