import { type ChildProcess, spawn } from 'node:child_process';

/**
 * `tickmesh dev` as a user starts it (`npm start`'s command), without the terminal view, its
 * probes on a port of the kernel's choosing and JSON log lines on stdout. `args` add dev's own
 * flags (`--api-port`, `--source`, ...); `nodeArgs` go to Node before the script.
 */
export function spawnDev(args: readonly string[], nodeArgs: readonly string[] = []): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--import',
      'tsx',
      'cmd/tickmesh/main.ts',
      'dev',
      '--no-view',
      '--metrics-port',
      '0',
      '--log-level',
      'info',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
