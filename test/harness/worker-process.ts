import { type ChildProcess, spawn } from 'node:child_process';

/** A `tickmesh worker` child process, and when it said it runs or exited. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Resolves at the worker's "worker running" log line; rejects with its output if it exits first. */
  readonly running: Promise<void>;
}

/** Starts `node <argv>` (a worker's command line) with its output kept for the failure message. */
export function spawnWorker(argv: readonly string[]): WorkerProcess {
  const child = spawn(process.execPath, [...argv], { env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const running = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('"worker running"')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before running:\n${output.slice(-3000)}`)));
  });
  running.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, running };
}
