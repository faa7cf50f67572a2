import { spawn } from 'node:child_process';
import type { TestProject } from 'vitest/node';

/**
 * Starts (or finds already running) every real server on loopback through the project's one
 * provisioning script, and hands the endpoints to the tests. A server that cannot start fails
 * the whole run with its log: integration tests are never skipped for a missing server.
 */
export default async function setup(project: TestProject): Promise<void> {
  const env = parseExports(await runInfra('test/infra/up.sh'));
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  project.provide('infraEnv', env);
}

/**
 * Runs a test/infra script (up.sh, or a server script's subcommand) and returns its stdout. Its
 * stderr goes straight to ours: errors (with the failing server's log) always, progress only on CI
 * or with TICKMESH_INFRA_QUIET=0, because a first run builds and fetches for many minutes and must
 * not look hung.
 */
export function runInfra(script: string, args: readonly string[] = []): Promise<string> {
  const quiet = process.env.TICKMESH_INFRA_QUIET ?? (process.env.CI ? '0' : '1');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TICKMESH_INFRA_QUIET: quiet },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `${[script, ...args].join(' ')} failed (${signal ?? `exit ${code}`}); its errors are printed above`,
          ),
        );
    });
  });
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
