import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExports } from './global-setup.js';

export type ServerName = 'postgres' | 'redis' | 'nats' | 'kafka';

/**
 * A set of servers of this test's own, started by the harness scripts (test/infra/<server>.sh)
 * with a TICKMESH_RUN directory and ports of their own. A test that stops and restarts servers
 * does it here, never to the shared servers other test files (and other test runs on the same
 * machine) are using at the same time.
 */
export interface PrivateServers {
  /** The endpoints, as `<server>.sh env` prints them: DATABASE_URL, KAFKA_BROKERS, ... */
  readonly env: Readonly<Record<string, string>>;
  /** The run directory: data, logs (`logs/<server>.log`) and pid files. */
  readonly dir: string;
  /** Runs `<server>.sh start` or `stop`; resolves with how long the script took, ms. */
  run(server: ServerName, command: 'start' | 'stop'): Promise<number>;
  /** Stops every server; removes the run directory unless `keep`. */
  close(keep?: boolean): Promise<void>;
}

/** A port nobody listens on right now (the kernel's pick; released before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function script(server: ServerName, command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [`test/infra/${server}.sh`, command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`test/infra/${server}.sh ${command} failed (exit ${code}):\n${stderr.slice(-4000)}`));
    });
  });
}

/**
 * `knobs`: environment for the server scripts, such as TICKMESH_KAFKA_SECURITY=1 or
 * TICKMESH_NATS_SECURITY=1 (servers with TLS and authentication, test/infra/<server>.sh).
 */
export async function startPrivateServers(
  servers: readonly ServerName[],
  knobs: Readonly<Record<string, string>> = {},
): Promise<PrivateServers> {
  const dir = mkdtempSync(join(tmpdir(), 'tickmesh-private-'));
  // PostgreSQL runs as the postgres user (when we are root) and must reach its data below here.
  chmodSync(dir, 0o755);
  const ports: Record<string, string> = {};
  for (const name of [
    'POSTGRES',
    'REDIS',
    'NATS',
    'NATS_MONITOR',
    'KAFKA',
    'KAFKA_CONTROLLER',
    'KAFKA_POD',
    'KAFKA_SASL_SSL',
    'KAFKA_MTLS',
    'REDIS_TLS',
  ]) {
    ports[`TICKMESH_PORT_${name}`] = String(await freePort());
  }
  const scriptEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...ports,
    TICKMESH_RUN: dir,
    TICKMESH_KAFKA_HEAP: '512m',
    TICKMESH_INFRA_QUIET: '1',
    ...knobs,
  };
  const started: ServerName[] = [];
  const run = async (server: ServerName, command: 'start' | 'stop'): Promise<number> => {
    const t0 = performance.now();
    await script(server, command, scriptEnv);
    return performance.now() - t0;
  };
  const close = async (keep = false): Promise<void> => {
    const errors: unknown[] = [];
    for (const s of [...started].reverse()) await run(s, 'stop').catch((err: unknown) => errors.push(err));
    if (!keep && errors.length === 0) rmSync(dir, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, `stopping the servers in ${dir} failed`);
  };
  try {
    await Promise.all(servers.map((s) => script(s, 'install', scriptEnv)));
    await Promise.all(
      servers.map(async (s) => {
        await run(s, 'start');
        started.push(s);
      }),
    );
    const env: Record<string, string> = {};
    for (const s of servers) Object.assign(env, parseExports(await script(s, 'env', scriptEnv)));
    return { env, dir, run, close };
  } catch (err) {
    await close(true).catch(() => {});
    throw err;
  }
}

/**
 * A role's environment for the mutual-TLS listener of a broker started with
 * TICKMESH_KAFKA_SECURITY=1: the test CA, the client certificate and its key, as files.
 */
export function kafkaMutualTlsEnv(env: PrivateServers['env']): Record<string, string> {
  const certs = env.TEST_CERTS ?? '';
  return {
    KAFKA_BROKERS: env.TEST_KAFKA_MTLS_BROKERS ?? '',
    KAFKA_SECURITY_PROTOCOL: 'ssl',
    KAFKA_TLS_CA_FILE: join(certs, 'ca.pem'),
    KAFKA_TLS_CERT_FILE: join(certs, 'client.pem'),
    KAFKA_TLS_KEY_FILE: join(certs, 'client.key'),
  };
}
