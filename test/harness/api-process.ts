import { type ChildProcess, spawn } from 'node:child_process';

export interface ApiProcess {
  readonly child: ChildProcess;
  /** The public port's base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The internal port (/metrics, /readyz with its reason). */
  readonly metricsPort: string;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/**
 * Starts `tickmesh api` as a process on free ports of 127.0.0.1 with the environment's endpoints
 * (plus `env`), and resolves once its `api running` line names both ports. The caller kills it.
 */
export async function startApiProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ApiProcess> {
  const child = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'cmd/tickmesh/main.ts', 'api'],
      ...['--port', '0', '--metrics-port', '0', '--host', '127.0.0.1', ...args],
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const [url, metricsPort] = await new Promise<[string, string]>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /"url":"(http:\/\/[^"]+)".*"metricsPort":(\d+)/.exec(output);
      if (m) resolve([m[1] as string, m[2] as string]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`tickmesh api exited (${code}):\n${output.slice(-3000)}`)));
  });
  return { child, url, metricsPort, output: () => output, exited };
}
