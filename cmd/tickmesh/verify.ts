import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { flagHelp } from '../../internal/config/parse-flags.js';
import { parseVerifyOptions, VERIFY_FLAGS, type VerifyOptions } from '../../internal/config/verify.js';
import { ConfigError } from '../../internal/runtime/errors.js';
import { createPostgresStore } from '../../internal/sink/postgres-store.js';
import type { CandleVerdict, FieldDifference, GapWindow } from '../../internal/verify/compare.js';
import { VENUE_CONVENTIONS, venueConvention } from '../../internal/verify/conventions.js';
import { createRequestBudget } from '../../internal/verify/request-budget.js';
import { createKlineSource, KLINE_VENUES } from '../../internal/verify/venue-klines.js';
import { type VerifyReport, verifyRange } from '../../internal/verify/verifier.js';
import type { Command } from './command.js';

const HELP = `tickmesh verify: check stored closed candles against the exchange's own klines

usage: tickmesh verify --exchange VENUE --symbol SYMBOL --from TIME --to TIME [options]

${flagHelp(VERIFY_FLAGS)}

Compared per venue (a difference in a "convention" field is shown, never a mismatch):
${KLINE_VENUES.map((v) => `  ${v.padEnd(16)} ${VENUE_CONVENTIONS[v]?.note}`).join('\n')}

Prints counts by status and every mismatch (field, ours, theirs) on stdout; progress on stderr.
Exit status 0 when every candle is verified or unverifiable, 1 on any mismatch, 2 on a usage
error or when the database or the venue cannot be reached.
`;

/** Gap windows from JSON lines: `{fromTime, toTime}` objects or gap.v1 events that carry a window. */
export function parseGapLines(text: string): GapWindow[] {
  const out: GapWindow[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let o: { fromTime?: unknown; toTime?: unknown; window?: { fromTime?: unknown; toTime?: unknown } };
    try {
      o = JSON.parse(line);
    } catch {
      throw new ConfigError(`--gaps line ${i + 1} is not JSON`);
    }
    const w = o.window ?? o;
    if (typeof w.fromTime === 'number' && typeof w.toTime === 'number') {
      out.push({ fromTime: w.fromTime, toTime: w.toTime });
    }
  }
  return out;
}

interface Io {
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
}

const iso = (t: number): string => new Date(t).toISOString();
const diffs = (d: readonly FieldDifference[]): string =>
  d.map((x) => `${x.field}: ours ${x.ours} theirs ${x.theirs}`).join('; ');

function verdictLine(v: CandleVerdict): string {
  if (v.status === 'unverifiable') return `unverifiable ${iso(v.openTime)}: ${v.reason}`;
  if (v.status === 'verified') return `verified ${iso(v.openTime)}`;
  const cause = v.likelyCause === 'gap' ? ' [likely lost trades (gap)]' : '';
  const conv = v.conventionDifferences.length > 0 ? ` (convention: ${diffs(v.conventionDifferences)})` : '';
  return `mismatch ${iso(v.openTime)}${cause}: ${diffs(v.differences)}${conv}`;
}

/** Unverifiable candles listed one by one up to this many; the rest only counted. */
const MAX_UNVERIFIABLE_LISTED = 100;

export function formatReport(o: VerifyOptions, r: VerifyReport, requests: number): string {
  const c = r.tally.counts;
  const lines = [
    `tickmesh verify ${o.exchange} ${o.symbol} ${o.interval} ${iso(o.from)} .. ${iso(o.to)}`,
    `${r.candles} candles: ${c.verified} verified, ${c.mismatch} mismatch, ${c.unverifiable} unverifiable` +
      (r.tally.conventionDifferent > 0 ? ` (${r.tally.conventionDifferent} differ only by venue convention)` : ''),
    `${r.klines} venue klines (${r.klinesNotStored} with no stored candle) in ${requests} requests`,
  ];
  let unverifiable = 0;
  for (const v of r.tally.notVerified) {
    if (v.status === 'unverifiable' && ++unverifiable > MAX_UNVERIFIABLE_LISTED) continue;
    lines.push(verdictLine(v));
  }
  if (unverifiable > MAX_UNVERIFIABLE_LISTED) {
    lines.push(`(${unverifiable - MAX_UNVERIFIABLE_LISTED} more unverifiable not listed)`);
  }
  return `${lines.join('\n')}\n`;
}

function progress(io: Io): (done: number, total: number) => void {
  if (io.stderr.isTTY) {
    return (done, total) => {
      const width = 30;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      io.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} windows`);
      if (done >= total) io.stderr.write('\n');
    };
  }
  return (done, total) => io.stderr.write(`verify: ${done}/${total} windows\n`);
}

/** The command's body, streams and environment injectable for tests. Resolves with the exit code. */
export async function runVerify(
  argv: readonly string[],
  io: Io,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<number> {
  let opts: VerifyOptions;
  let gaps: GapWindow[] = [];
  try {
    opts = parseVerifyOptions(argv, env);
    if (opts.gaps) gaps = parseGapLines(await readFile(opts.gaps, 'utf8'));
  } catch (err) {
    if (!(err instanceof ConfigError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    io.stderr.write(`tickmesh verify: ${(err as Error).message}\n`);
    return 2;
  }
  const convention = venueConvention(opts.exchange);
  let requests = 0;
  const counting: typeof fetch = (input, init) => {
    requests++;
    return fetch(input, init);
  };
  const source = createKlineSource(opts.exchange, {
    restUrl: opts.restUrl,
    fetch: counting,
    budget: createRequestBudget(opts.requestsPerSecond),
    onRetry: (err, attempt, delayMs) =>
      io.stderr.write(`verify: ${(err as Error).message}; retry ${attempt} in ${delayMs} ms\n`),
  });
  if (!source || !convention) {
    io.stderr.write(`tickmesh verify: cannot verify ${opts.exchange}\n`);
    return 2;
  }
  const store = createPostgresStore({
    connectionString: opts.databaseUrl,
    schema: opts.schema,
    poolSize: 1,
    applicationName: 'tickmesh-verify',
  });
  try {
    const report = await verifyRange(
      { store, source, convention },
      {
        exchange: opts.exchange,
        symbol: opts.symbol,
        interval: opts.interval,
        from: opts.from,
        to: opts.to,
        gaps,
        signal,
        onProgress: progress(io),
      },
    );
    io.stdout.write(formatReport(opts, report, requests));
    return report.tally.counts.mismatch > 0 ? 1 : 0;
  } catch (err) {
    if (signal.aborted) throw err;
    io.stderr.write(`tickmesh verify: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  } finally {
    await store.close();
  }
}

export const verifyCommand: Command = {
  name: 'verify',
  help: HELP,
  run: (argv, signal) => runVerify(argv, { stdout: process.stdout, stderr: process.stderr }, process.env, signal),
};
