import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const runCommandModule = fileURLToPath(new URL('./run-command.ts', import.meta.url));

/** Runs `body` (the `run` of a command) through runCommand in a fresh process; resolves with its exit code. */
function runInProcess(body: string): Promise<{ code: number | null; stderr: string }> {
  const script = `import { runCommand } from ${JSON.stringify(runCommandModule)};
runCommand({ name: 'probe', help: '', run: async () => { ${body} } }, []);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the process did not exit within 20 s; stderr:\n${stderr}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('runCommand', () => {
  it('exits a process whose command failed while it still held an open handle', async () => {
    const r = await runInProcess(`setInterval(() => {}, 1_000); throw new Error('setup failed');`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('tickmesh probe: Error: setup failed');
  });

  it('sets the exit code a command returns and lets the process end by itself', async () => {
    const r = await runInProcess('return 3;');
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
  });

  it('exits a process whose command returned while a client still held a handle, with its code', async () => {
    const r = await runInProcess('setInterval(() => {}, 1_000); return 4;');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('tickmesh probe: handles still open 5000 ms after stopping; exiting (open: ');
    // What is still open, named: here the interval the command left.
    expect(r.stderr).toMatch(/\(open: .*Timeout x1/);
  });
});
