import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseEndpoints } from '../../internal/config/endpoints.js';
import { sqlSchemaFlag } from '../../internal/config/flags.js';
import { INTERVALS } from '../../internal/market/interval.js';
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

  --exchange VENUE          ${KLINE_VENUES.join(' | ')}
  --symbol SYMBOL           the venue's symbol, as the candles are stored (BTCUSDT, BTC-USDT)
  --interval I              default 1m (${INTERVALS.join(' ')}; the venue's own set applies)
  --from TIME               first open time, inclusive: ISO 8601 (2020-02-22T00:01Z) or Unix ms
  --to TIME                 last open time, exclusive
  --database-url URL        PostgreSQL holding the candles                              (DATABASE_URL)
  --schema NAME             its schema (default public)
  --rest-url URL            the venue's REST base URL (default its public API; a stand-in in tests)
  --requests-per-second N   request budget against the venue, default 5
  --gaps FILE               JSON lines of gap windows ({"fromTime": ms, "toTime": ms}, or gap.v1
                            events with a window): a mismatch inside one is "likely lost trades (gap)";
                            id-only gap events carry no event times and are skipped

Compared per venue (a difference in a "convention" field is shown, never a mismatch):
${KLINE_VENUES.map((v) => `  ${v.padEnd(16)} ${VENUE_CONVENTIONS[v]?.note}`).join('\n')}

Prints counts by status and every mismatch (field, ours, theirs) on stdout; progress on stderr.
Exit status 0 when every candle is verified or unverifiable, 1 on any mismatch, 2 on a usage
error or when the database or the venue cannot be reached.
`;

const time = z.string().transform((s, ctx) => {
  const t = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isSafeInteger(t)) {
    ctx.addIssue({ code: 'custom', message: `${s} is neither ISO 8601 nor Unix ms` });
    return z.NEVER;
  }
  return t;
});

const flagsSchema = z.object({
  exchange: z.string().refine((v) => (KLINE_VENUES as readonly string[]).includes(v), {
    message: `one of ${KLINE_VENUES.join(', ')}`,
  }),
  symbol: z.string().min(1),
  interval: z.enum(INTERVALS).default('1m'),
  from: time,
  to: time,
  schema: sqlSchemaFlag.default('public'),
  'rest-url': z.string().url().optional(),
  'requests-per-second': z.coerce.number().positive().max(1000).default(5),
  gaps: z.string().min(1).optional(),
});

interface VerifyOptions {
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: (typeof INTERVALS)[number];
  readonly from: number;
  readonly to: number;
  readonly schema: string;
  readonly databaseUrl: string;
  readonly restUrl?: string;
  readonly requestsPerSecond: number;
  readonly gaps?: string;
}

const NAMES = [
  'exchange',
  'symbol',
  'interval',
  'from',
  'to',
  'database-url',
  'schema',
  'rest-url',
  'requests-per-second',
  'gaps',
];

export function parseVerifyOptions(argv: readonly string[], env: NodeJS.ProcessEnv): VerifyOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: Object.fromEntries(NAMES.map((n) => [n, { type: 'string' as const }])),
    }).values as Record<string, string | undefined>;
  } catch (cause) {
    throw new ConfigError(`verify: ${(cause as Error).message}`, { cause });
  }
  const parsed = flagsSchema.safeParse(Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`verify: ${issues}`);
  }
  const v = parsed.data;
  if (v.to <= v.from) throw new ConfigError('verify: --to must be after --from');
  const { databaseUrl } = parseEndpoints({ 'database-url': values['database-url'] }, env);
  if (!databaseUrl) throw new ConfigError('verify: no database (--database-url or DATABASE_URL)');
  return Object.freeze({
    exchange: v.exchange,
    symbol: v.symbol,
    interval: v.interval,
    from: v.from,
    to: v.to,
    schema: v.schema,
    databaseUrl,
    ...(v['rest-url'] ? { restUrl: v['rest-url'] } : {}),
    requestsPerSecond: v['requests-per-second'],
    ...(v.gaps ? { gaps: v.gaps } : {}),
  });
}

/** Gap windows from JSON lines: `{fromTime, toTime}` objects or gap.v1 events that carry a window. */
export function parseGapLines(text: string): GapWindow[] {
  const out: GapWindow[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let o: { fromTime?: unknown; toTime?: unknown; window?: { fromTime?: unknown; toTime?: unknown } };
    try {
      o = JSON.parse(line);
    } catch {
      throw new ConfigError(`verify: --gaps line ${i + 1} is not JSON`);
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
    io.stderr.write(`tickmesh ${(err as Error).message}\n`);
    return 2;
  }
  const convention = venueConvention(opts.exchange);
  let requests = 0;
  const counting: typeof fetch = (input, init) => {
    requests++;
    return fetch(input, init);
  };
  const source = createKlineSource(opts.exchange, {
    ...(opts.restUrl ? { restUrl: opts.restUrl } : {}),
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
