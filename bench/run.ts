import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixRequestQueueTimers } from '../internal/log/kafka-request-queue.js';
import { describeOpenHandles } from '../internal/runtime/open-handles.js';
import type { Bench, BenchResult } from './bench.js';

const USAGE = `usage: npm run bench -- [--quick] [--json] [name ...]

Runs every bench/*.bench.ts, or those named (\`actor\` runs bench/actor.bench.ts), one after the
other in this process, and prints each figure with the machine it was measured on.
  --quick  smaller inputs, for a smoke run (figures are not for docs)
  --json   one JSON document on stdout instead of text
`;

function machine(): Record<string, string | number> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  let nproc = 'unknown';
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // nproc missing: leave it unknown rather than guess
  }
  const [one, five, fifteen] = loadavg();
  return {
    nproc,
    cpu: model,
    node: process.version,
    load: `${one?.toFixed(2)} ${five?.toFixed(2)} ${fifteen?.toFixed(2)}`,
    date: new Date().toISOString(),
  };
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const quick = argv.includes('--quick');
  const json = argv.includes('--json');
  const names = argv.filter((a) => !a.startsWith('--'));
  const dir = import.meta.dirname;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort();
  const chosen =
    names.length === 0 ? files : names.map((n) => (n.endsWith('.bench.ts') ? basename(n) : `${n}.bench.ts`));
  const unknown = chosen.filter((f) => !files.includes(f));
  if (unknown.length > 0) {
    process.stderr.write(`bench: no such benchmark: ${unknown.join(', ')} (have: ${files.join(', ')})\n`);
    return 2;
  }
  const before = machine();
  if (!json) {
    process.stdout.write(
      `machine: ${Object.entries(before)
        .map(([k, v]) => `${k}=${v}`)
        .join('  ')}\n`,
    );
  }
  const report: { bench: string; results: readonly BenchResult[] }[] = [];
  for (const file of chosen) {
    const mod = (await import(pathToFileURL(resolve(dir, file)).href)) as { default: Bench };
    const bench = mod.default;
    if (!json) process.stdout.write(`\n${bench.name}: ${bench.description}\n`);
    const results = await bench.run({ quick });
    report.push({ bench: bench.name, results });
    if (!json) {
      for (const r of results) {
        process.stdout.write(`  ${r.name}: ${formatValue(r.value)} ${r.unit}\n`);
        for (const [k, v] of Object.entries(r.details ?? {})) process.stdout.write(`      ${k}: ${v}\n`);
      }
    }
  }
  const after = machine();
  if (json)
    process.stdout.write(`${JSON.stringify({ machine: before, loadAfter: after.load, quick, report }, null, 2)}\n`);
  else process.stdout.write(`\nload after: ${after.load}${quick ? '   (--quick: not a figure for docs)' : ''}\n`);
  return 0;
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

// A bench that failed half-way can leave a client or a thread open (a full worker latency run
// did, after its NATS subscriber was disconnected): the runner exits anyway, 10 s after the end.
const exitSoon = () =>
  setTimeout(() => {
    process.stderr.write(`bench: handles still open 10 s after the end; exiting (open: ${describeOpenHandles()})\n`);
    process.exit();
  }, 10_000).unref();

// The benches' own kafkajs clients (new Kafka(...)) get the fix tickmesh's clients have: without
// it each connection re-arms a negative-delay timer (TimeoutNegativeWarning on Node 24).
fixRequestQueueTimers();

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    exitSoon();
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
    exitSoon();
  },
);
