import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** The client libraries a fresh process has loaded after importing `module` (a path from the root). */
async function librariesLoadedBy(module: string): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(resolve(ROOT, module))});
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    const libs = new Set(loaded.flatMap((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(p)?.[1] ?? []));
    process.stdout.write(JSON.stringify([...libs].sort()));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: ROOT },
  );
  return JSON.parse(stdout) as string[];
}

describe('what a command loads', () => {
  it('tickmesh api does not load kafkajs (it uses no Kafka)', async () => {
    const libs = await librariesLoadedBy('cmd/tickmesh/api.ts');
    // The probe sees CommonJS libraries: pg is one the api does load.
    expect(libs).toContain('pg');
    expect(libs).not.toContain('kafkajs');
  });
});
