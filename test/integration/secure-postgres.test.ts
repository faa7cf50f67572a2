import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoints } from '../../internal/config/endpoints.js';
import { ConnectionSecurityError } from '../../internal/runtime/errors.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import { secretFile, strangerCa } from '../harness/certs.js';
import { freshName } from '../harness/env.js';
import { type PrivateServers, startPrivateServers } from '../harness/private-servers.js';

// A PostgreSQL of this file's own with ssl=on (the test CA) that takes TCP logins over TLS only
// (test/infra/postgres.sh, TICKMESH_POSTGRES_SSL=1).
let servers: PrivateServers;
let ca: string;
let hostUrl: URL;

beforeAll(async () => {
  servers = await startPrivateServers(['postgres'], { TICKMESH_POSTGRES_SSL: '1' });
  ca = join(servers.env.TEST_CERTS!, 'ca.pem');
  hostUrl = new URL(servers.env.DATABASE_URL!);
}, 120_000);

afterAll(async () => {
  await servers?.close();
}, 60_000);

/** Migrates and reads through a store built as a process builds it, from the environment. */
async function migrateWith(env: Record<string, string>): Promise<unknown> {
  const endpoints = parseEndpoints({}, env);
  const store = createPostgresStore({
    connectionString: endpoints.databaseUrl!,
    security: endpoints.postgresSecurity,
    schema: freshName('tm_secure'),
    poolSize: 1,
    connectTimeoutMs: 5_000,
  });
  try {
    await store.migrate();
    expect(await store.loadCheckpoint('t', 0)).toBeNull();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await store.close();
  }
}

const url = (user: string, password: string | undefined, query = ''): string =>
  `postgres://${user}${password === undefined ? '' : `:${password}`}@${hostUrl.host}${hostUrl.pathname}${query}`;

describe('PostgreSQL with TLS', () => {
  it('verify-full against the CA file, the password from a file', async () => {
    const err = await migrateWith({
      DATABASE_URL: url(hostUrl.username, undefined),
      DATABASE_TLS_CA_FILE: ca,
      DATABASE_PASSWORD_FILE: secretFile('password', decodeURIComponent(hostUrl.password)),
    });
    expect(err).toBeUndefined();
  }, 30_000);

  it('sslmode=verify-full&sslrootcert in the URL', async () => {
    const err = await migrateWith({
      DATABASE_URL: url(hostUrl.username, hostUrl.password, `?sslmode=verify-full&sslrootcert=${ca}`),
    });
    expect(err).toBeUndefined();
  }, 30_000);

  it('a wrong password is a ConnectionSecurityError naming postgres', async () => {
    const err = await migrateWith({ DATABASE_URL: url(hostUrl.username, 'wrong'), DATABASE_TLS_CA_FILE: ca });
    expect(err).toBeInstanceOf(ConnectionSecurityError);
    expect((err as Error).message).toMatch(/^postgres: the server refused the login/);
  }, 30_000);

  it('a CA the server certificate does not chain to is a ConnectionSecurityError', async () => {
    const err = await migrateWith({
      DATABASE_URL: url(hostUrl.username, hostUrl.password),
      DATABASE_TLS_CA_FILE: strangerCa(),
    });
    expect(err).toBeInstanceOf(ConnectionSecurityError);
    expect((err as Error).message).toMatch(/^postgres: .*certificate does not verify/);
  }, 30_000);

  it('a plain-text client is refused by the server (hostssl): ConnectionSecurityError', async () => {
    const err = await migrateWith({ DATABASE_URL: url(hostUrl.username, hostUrl.password, '?sslmode=disable') });
    expect(err).toBeInstanceOf(ConnectionSecurityError);
    expect((err as Error).message).toMatch(/^postgres: the server refused the login/);
  }, 30_000);
});
