import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CoreV1Api } from '@kubernetes/client-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, freshName } from '../harness/env.js';
import { type PrivateServers, startPrivateServers } from '../harness/private-servers.js';
import { freshNamespace, kubeConfig } from '../integration/operator-support.js';
import {
  allReady,
  CHART,
  firstCandleSymbols,
  helm,
  notReadyWithOneLine,
  onePod,
  podsApi,
  RELEASE,
  releaseValues,
  SELECT,
  topicsJobSucceeded,
  writeValues,
} from './cluster-support.js';

// Issue 18: the chart installed on the real node against servers that require TLS and
// credentials, every secret a key of a Secret the test creates, mounted as a file. Servers of
// this file's own (test/harness/private-servers.ts), their certificates from the harness CA
// naming the node's address (lib.sh ensure_test_certs), their loopback ports forwarded to the
// bridge like the shared ones (node.sh): PostgreSQL with ssl=on and hostssl only (verify-full
// against the CA, password from a Secret), Redis over TLS with an ACL user, NATS with TLS
// required and a password user, Kafka SASL_SSL with SCRAM-SHA-512 on the listener that
// advertises the node's address. Every role (topics Job, ingest, worker, operator, api) must
// become Ready through its probes and the simulator's candles must reach PostgreSQL; then a wrong
// password in the PostgreSQL Secret makes the api not Ready with one clear line.

const run = promisify(execFile);
const NATS_USER = 'tickmesh-pods';
const NATS_PASSWORD = 'nats-pods-secret';

const figures: Record<string, number> = {};

describe('the chart with TLS and credentials from Secrets, on the real node', () => {
  const topic = freshName('cluster-secured');
  const schema = freshName('cluster_secured').replace(/-/g, '_');
  let servers: PrivateServers;
  let core: CoreV1Api;
  let ns: { name: string; delete(): Promise<void> };
  const forwarded: string[][] = [];

  beforeAll(async () => {
    core = podsApi();
    const t0 = Date.now();
    servers = await startPrivateServers(['postgres', 'redis', 'nats', 'kafka'], {
      TICKMESH_POSTGRES_SSL: '1',
      TICKMESH_REDIS_TLS: '1',
      TICKMESH_NATS_TLS: '1',
      TICKMESH_NATS_CONF_EXTRA: `authorization {\n  users = [ { user: "${NATS_USER}", password: "${NATS_PASSWORD}" } ]\n}`,
      TICKMESH_KAFKA_SECURITY: '1',
    });
    figures.privateServersStartMs = Date.now() - t0;
    for (const port of podPorts(servers.env)) await forward(port);
    ns = await freshNamespace(kubeConfig(), 'cluster-secured');
  }, 300_000);

  afterAll(async () => {
    if (ns) {
      await helm('uninstall', RELEASE, '--namespace', ns.name, '--wait', '--timeout', '120s').catch(() => undefined);
      await ns.delete();
    }
    for (const rule of forwarded.reverse()) await run('iptables', ['-t', 'nat', '-D', ...rule]).catch(() => undefined);
    await servers?.close();
    mkdirSync('test-results', { recursive: true });
    writeFileSync(join('test-results', 'cluster-secured.json'), JSON.stringify(figures, null, 2));
    console.log(`cluster secured figures: ${JSON.stringify(figures)}`);
  }, 300_000);

  /** NODE_IP:port to 127.0.0.1:port for packets from the bridge, as node.sh does for the shared servers. */
  async function forward(port: string) {
    const chain = endpoint('TICKMESH_NODE_NAT_CHAIN');
    const bridge = endpoint('TICKMESH_NODE_BRIDGE');
    const match = ['-i', bridge, '-p', 'tcp', '--dport', port];
    const rules = [
      [chain, ...match, '-d', endpoint('TICKMESH_NODE_IP'), '-j', 'DNAT', '--to-destination', `127.0.0.1:${port}`],
      [`${chain}-SNAT`, ...match, '-d', '127.0.0.1', '-j', 'SNAT', '--to-source', '127.0.0.1'],
    ];
    for (const rule of rules) {
      await run('iptables', ['-t', 'nat', '-A', ...rule]);
      forwarded.push(rule);
    }
  }

  it('installs with TLS and SASL/ACL/password values: every role Ready, candles in PostgreSQL', async () => {
    const namespace = ns.name;
    const env = servers.env;
    const ca = readFileSync(join(env.TEST_CERTS!, 'ca.pem'), 'utf8');
    const nodeIp = endpoint('TICKMESH_NODE_IP');
    const at = (url: string) => url.replace('127.0.0.1', nodeIp);
    const secret = (name: string, data: Record<string, string>) =>
      core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: data } });
    await secret('servers-ca', { 'ca.crt': ca });
    await secret('kafka-user', { password: env.TEST_KAFKA_PASSWORD! });
    await secret('redis-user', { password: env.TEST_REDIS_PASSWORD! });
    await secret('nats-user', { password: NATS_PASSWORD });
    const database = new URL(env.DATABASE_URL!);
    await secret('pg-user', { password: decodeURIComponent(database.password) });
    const noPassword = new URL(at(env.DATABASE_URL!));
    noPassword.password = '';
    const fromCa = { secretName: 'servers-ca', key: 'ca.crt' };

    const base = releaseValues({
      topic,
      schema,
      bucket: freshName('cluster-secured'),
      ingest: true,
      api: true,
      createTopics: true,
    });
    const values = {
      ...base,
      kafka: {
        ...base.kafka,
        brokers: env.TEST_KAFKA_POD_SASL_SSL_BROKERS,
        tls: { enabled: true, ca: fromCa },
        sasl: {
          mechanism: 'scram-sha-512',
          username: env.TEST_KAFKA_USER,
          password: { secretName: 'kafka-user', key: 'password' },
        },
      },
      nats: {
        url: at(env.NATS_URL!),
        tls: { enabled: true, ca: fromCa },
        auth: { user: NATS_USER, password: { secretName: 'nats-user', key: 'password' } },
      },
      redis: {
        url: at(env.TEST_REDIS_TLS_URL!),
        tls: { ca: fromCa },
        username: env.TEST_REDIS_USER,
        password: { secretName: 'redis-user', key: 'password' },
      },
      postgres: {
        ...base.postgres,
        url: noPassword.toString(),
        tls: { ca: fromCa },
        password: { secretName: 'pg-user', key: 'password' },
      },
      worker: { ...base.worker, replicas: 1 },
      operator: { ...base.operator, replicas: 1 },
    };
    // No secret in the values the chart is given: only Secret names.
    const file = await writeValues('secured', values);
    const text = readFileSync(file, 'utf8');
    for (const s of [env.TEST_KAFKA_PASSWORD!, env.TEST_REDIS_PASSWORD!, NATS_PASSWORD]) expect(text).not.toContain(s);
    // (PostgreSQL's password of the harness is `tickmesh`, a word every name here has: its URL has none.)
    expect(new URL(values.postgres.url).password).toBe('');

    const t0 = Date.now();
    await helm('install', RELEASE, CHART, '--namespace', namespace, '-f', file);
    // topics Job (SASL_SSL), then ingest, worker, operator and api.
    const pods = await allReady(
      core,
      namespace,
      `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component!=topics`,
      4,
    );
    figures.installToAllReadyMs = Date.now() - t0;
    await topicsJobSucceeded(core, namespace);
    for (const p of pods) expect(p.status?.containerStatuses?.[0]?.restartCount, p.metadata?.name).toBe(0);
    // NATS as the server sees it: the worker, the operator and the api over TLS, as the password user.
    const monitor = /^http: "([^"]+)"/m.exec(readFileSync(join(servers.dir, 'nats', 'nats.conf'), 'utf8'))?.[1];
    const connz = (await (await fetch(`http://${monitor}/connz?auth=1`)).json()) as {
      connections: { name?: string; tls_version?: string; authorized_user?: string }[];
    };
    for (const role of ['worker', 'operator', 'api']) {
      const c = connz.connections.filter((x) => x.name?.startsWith(`tickmesh-${role}-`));
      expect(c.length, `${role}'s NATS connections`).toBeGreaterThan(0);
      for (const x of c) expect([x.tls_version, x.authorized_user]).toEqual(['1.3', NATS_USER]);
    }

    // The worker's candles, read back over TLS with the same CA.
    const db = new pg.Client({ connectionString: env.DATABASE_URL, ssl: { ca } });
    await db.connect();
    try {
      const tls = await db.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(tls.rows[0]?.ssl).toBe(true);
      const symbols = await firstCandleSymbols(
        db,
        schema,
        'closed 1m candles of the simulated markets in the secured PostgreSQL',
      );
      figures.installToFirstCandleMs = Date.now() - t0;
      expect(symbols.length).toBeGreaterThanOrEqual(1);
      // Every pod's PostgreSQL session is TLS: none is plain.
      const plain = await db.query(
        `SELECT count(*)::int AS n FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
          WHERE a.client_addr IS NOT NULL AND NOT s.ssl`,
      );
      expect(plain.rows[0]?.n).toBe(0);
    } finally {
      await db.end();
    }

    // A wrong password in one Secret: the api pod started with it runs, not Ready, with one line
    // naming PostgreSQL and the refusal (the pattern of faults.test.ts); the right one back, Ready.
    const setPgPassword = async (password: string) => {
      await core.deleteNamespacedSecret({ name: 'pg-user', namespace });
      await secret('pg-user', { password });
    };
    const restartApi = async () =>
      core.deleteNamespacedPod({ name: (await onePod(core, namespace, 'api')).metadata!.name!, namespace });
    const t1 = Date.now();
    await setPgPassword('not-the-password');
    await restartApi();
    // A refused login is tried again 15 s later: the check spans a retry.
    await notReadyWithOneLine(core, namespace, 'api', 'postgres', /password authentication failed/, 16_000);
    figures.wrongPasswordShownMs = Date.now() - t1;
    const t2 = Date.now();
    await setPgPassword(decodeURIComponent(database.password));
    await restartApi();
    await allReady(core, namespace, SELECT('api'), 1);
    figures.rightPasswordToReadyMs = Date.now() - t2;
  }, 420_000);
});

/** The loopback ports of the private servers that pods reach at the node's address. */
function podPorts(env: Readonly<Record<string, string>>): string[] {
  const portOf = (hostPort: string) => hostPort.slice(hostPort.lastIndexOf(':') + 1).replace(/\/.*$/, '');
  return [
    new URL(env.DATABASE_URL!).port,
    new URL(env.TEST_REDIS_TLS_URL!).port,
    new URL(env.NATS_URL!).port,
    portOf(env.TEST_KAFKA_POD_SASL_SSL_BROKERS!),
  ];
}
