import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);

/**
 * Starts (or finds already running) every real server on loopback through the project's one
 * provisioning script, and hands the endpoints to the tests. A server that cannot start fails
 * the whole run with its log: integration tests are never skipped for a missing server.
 */
export default async function setup(project: TestProject): Promise<void> {
  const { stdout } = await run('bash', ['test/infra/up.sh'], {
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, TICKMESH_INFRA_QUIET: '1' },
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`test/infra/up.sh failed: ${err.message}\n${err.stderr ?? ''}`);
  });
  const env = parseExports(stdout);
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  project.provide('infraEnv', env);
}

/** Reads `export NAME=value` lines (values may be single-quoted) as the script prints them. */
export function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2] ?? '';
    if (value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    env[m[1] as string] = value;
  }
  return env;
}

declare module 'vitest' {
  export interface ProvidedContext {
    infraEnv: Record<string, string>;
  }
}
