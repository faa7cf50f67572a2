import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { type ActorConfig, actorConfig } from '../../internal/actor/config.js';
import { MarketActor, type MarketIdentity } from '../../internal/actor/market-actor.js';
import { clearActorOutput, createActorOutput, type TradeOutcome } from '../../internal/actor/output.js';
import { CANDLES_FLAGS } from '../../internal/config/candles.js';
import { flagHelp, parseFlags } from '../../internal/config/parse-flags.js';
import { eachLine, readLineBlocks } from '../../internal/ingest/files/lines.js';
import { scanTradeFile } from '../../internal/ingest/files/read-trade-file.js';
import type { TradeFileOptions } from '../../internal/ingest/files/trade-file.js';
import type { Candle } from '../../internal/market/candle.js';
import { tradeKey } from '../../internal/market/trade.js';
import { ConfigError, TickmeshError } from '../../internal/runtime/errors.js';
import type { Command } from './command.js';

const HELP = `tickmesh candles: build candles offline from an exchange trade file and print them

usage: tickmesh candles --input FILE --format FORMAT [options]

${flagHelp(CANDLES_FLAGS)}

Bad rows go to stderr with their line numbers and are counted; a summary ends stderr. Every
window that holds trades is printed, and the empty ones between them; the first and last may be
partial when the file starts or ends inside them.
`;

interface Io {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** Most bad rows printed one by one; the rest are only counted. */
const MAX_REPORTED = 1_000;

interface Options {
  readonly file: Omit<TradeFileOptions, 'signal'>;
  readonly config: ActorConfig;
  readonly output: 'csv' | 'jsonl';
  readonly strict: boolean;
}

function parse(argv: readonly string[]): Options {
  const v = parseFlags(CANDLES_FLAGS, argv, {});
  return {
    file: {
      path: v.input,
      format: v.format,
      exchange: v.exchange || undefined,
      symbol: v.symbol || undefined,
      market: v.market || undefined,
    },
    config: actorConfig({
      intervals: [v.interval],
      outOfOrdernessMs: v.outOfOrdernessMs,
      allowedLatenessMs: v.allowedLatenessMs,
      partialUpdates: false,
      detectors: { interval: v.interval },
    }),
    output: v.output,
    strict: v.strict,
  };
}

/** Decimals as the file prints them (trailing zeros included): the kline layout prints the same. */
interface Decimals {
  price: number;
  size: number;
}

function decimalsOf(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** A canonical decimal printed with exactly `d` fractional digits (never fewer than it has). */
export function padDecimal(s: string, d: number): string {
  const have = decimalsOf(s);
  if (have >= d) return s;
  return have === 0 ? `${s}.${'0'.repeat(d)}` : s + '0'.repeat(d - have);
}

/** One kline CSV row, as the exchange's files print it. */
export function klineRow(c: Candle, d: Decimals): string {
  const q = d.price + d.size;
  return [
    c.openTime,
    padDecimal(c.open, d.price),
    padDecimal(c.high, d.price),
    padDecimal(c.low, d.price),
    padDecimal(c.close, d.price),
    padDecimal(c.volume, d.size),
    c.closeTime,
    padDecimal(c.quoteVolume, q),
    c.trades,
    padDecimal(c.takerBuyVolume, d.size),
    padDecimal(c.takerBuyQuoteVolume, q),
    0,
  ].join(',');
}

/** The fields of a kline row that hold prices (1-4), sizes (5, 9) and quote amounts (7, 10). */
const KLINE_FIELD_KIND = ['', 'p', 'p', 'p', 'p', 's', '', 'q', '', 's', 'q', ''] as const;

/** A kline row printed without padding (klineRow with 0 decimals), padded to `d`. */
export function padKlineRow(row: string, d: Decimals): string {
  const f = row.split(',');
  const q = d.price + d.size;
  for (let i = 1; i < f.length; i++) {
    const kind = KLINE_FIELD_KIND[i];
    if (kind === 'p') f[i] = padDecimal(f[i] as string, d.price);
    else if (kind === 's') f[i] = padDecimal(f[i] as string, d.size);
    else if (kind === 'q') f[i] = padDecimal(f[i] as string, q);
  }
  return f.join(',');
}

/**
 * Kline rows held in a temporary file until the whole trade file has been read: a row prints
 * with the decimals of every trade of the file, which only the end tells. The trade file is
 * read once (a gzip file is inflated once), and memory stays flat however many candles there
 * are; the rows are copied to the output, padded, at the end.
 */
class KlineSpill {
  private constructor(
    private readonly dir: string,
    private readonly path: string,
    private readonly file: Writable,
  ) {}

  static async open(): Promise<KlineSpill> {
    const dir = await mkdtemp(join(tmpdir(), 'tickmesh-candles-'));
    const path = join(dir, 'klines.csv');
    const file = createWriteStream(path, { highWaterMark: 1 << 20 });
    return new KlineSpill(dir, path, file);
  }

  write(text: string): Promise<void> {
    return write(this.file, text);
  }

  async copyTo(out: Writable, d: Decimals, signal: AbortSignal): Promise<void> {
    this.file.end();
    await once(this.file, 'finish');
    for await (const block of readLineBlocks(this.path, signal)) {
      let text = '';
      eachLine(block, (start, end) => {
        if (end > start) text += `${padKlineRow(block.slice(start, end), d)}\n`;
      });
      await write(out, text);
    }
  }

  async remove(): Promise<void> {
    this.file.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function write(stream: Writable, text: string): Promise<void> {
  if (text.length > 0 && !stream.write(text)) await once(stream, 'drain');
}

/** The command's body, with its streams injectable for tests. Resolves with the exit code. */
export async function runCandles(argv: readonly string[], io: Io, signal: AbortSignal): Promise<number> {
  let opts: Options;
  try {
    opts = parse(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`tickmesh candles: ${err.message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }
  try {
    return await build(opts, io, signal);
  } catch (err) {
    if (err instanceof TickmeshError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      io.stderr.write(`tickmesh candles: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}

async function build(opts: Options, io: Io, signal: AbortSignal): Promise<number> {
  const spill = opts.output === 'csv' ? await KlineSpill.open() : undefined;
  try {
    return await buildInto(opts, io, spill, signal);
  } finally {
    await spill?.remove();
  }
}

async function buildInto(opts: Options, io: Io, spill: KlineSpill | undefined, signal: AbortSignal): Promise<number> {
  /** exchange -> symbol -> actor: parsers hand out one string per market, hashed once. */
  const actors = new Map<string, Map<string, MarketActor>>();
  /** The same actors in the order of their first trade, the order they flush in. */
  const all: MarketActor[] = [];
  const out = createActorOutput();
  const stats = { lines: 0, trades: 0, bad: 0, late: 0, duplicates: 0, candles: 0, revisions: 0 };
  /** CSV output: the decimals the file's trades print, and every market seen (one is allowed). */
  const decimals: Decimals = { price: 0, size: 0 };
  const markets = new Set<string>();
  const none: Decimals = { price: 0, size: 0 };
  const print = (candles: readonly Candle[]): string => {
    let text = '';
    for (const c of candles) text += spill ? `${klineRow(c, none)}\n` : `${JSON.stringify(c)}\n`;
    return text;
  };
  const drain = async (): Promise<void> => {
    stats.candles += out.closed.length;
    stats.revisions += out.revised.length;
    const text = print(out.closed) + print(out.revised);
    await (spill ? spill.write(text) : write(io.stdout, text));
    clearActorOutput(out);
  };
  const bad = (line: number, reason: string, message: string): boolean => {
    stats.bad++;
    if (opts.strict) {
      io.stderr.write(`tickmesh candles: ${opts.file.path}:${line}: ${reason}: ${message}\n`);
      return true;
    }
    if (stats.bad <= MAX_REPORTED) io.stderr.write(`${opts.file.path}:${line}: ${reason}: ${message}\n`);
    return false;
  };
  let actor: MarketActor | undefined;
  let lastSymbol: string | undefined;
  let lastExchange: string | undefined;
  /** The market's actor, or undefined past a kline CSV's second market (only counted then). */
  const actorOf = (t: MarketIdentity): MarketActor | undefined => {
    // Parsers hand out the same exchange and symbol strings while they repeat: a run of one
    // market's trades finds its actor without building a key.
    if (t.symbol !== lastSymbol || t.exchange !== lastExchange) {
      lastSymbol = t.symbol;
      lastExchange = t.exchange;
      let symbols = actors.get(t.exchange);
      if (symbols === undefined) {
        symbols = new Map();
        actors.set(t.exchange, symbols);
      }
      let next = symbols.get(t.symbol);
      if (next === undefined) {
        if (spill) markets.add(tradeKey(t));
        // A kline CSV holds one market: past the second, only the markets are still counted.
        if (markets.size > 1) return undefined;
        next = new MarketActor({ exchange: t.exchange, symbol: t.symbol, market: t.market }, opts.config);
        symbols.set(t.symbol, next);
        all.push(next);
      }
      actor = next;
    }
    return markets.size > 1 ? undefined : actor;
  };
  /** Counts an outcome; true to stop (a bad row in strict mode). */
  const tally = (outcome: TradeOutcome, line: number, tradeId: string): boolean => {
    if (outcome === 'rejected') {
      const r = out.rejected[out.rejected.length - 1];
      return bad(line, r?.reason ?? 'rejected', 'the actor cannot hold this trade exactly');
    }
    if (outcome === 'late') {
      stats.late++;
      if (stats.late <= MAX_REPORTED) {
        io.stderr.write(`${opts.file.path}:${line}: late: trade ${tradeId} is past the allowed lateness\n`);
      }
    } else if (outcome === 'duplicate') {
      stats.duplicates++;
    } else {
      stats.trades++;
    }
    return false;
  };
  let stopped = false;
  await scanTradeFile(
    { ...opts.file, signal },
    {
      row: (row, line) => {
        stats.lines = line;
        const a = actorOf(row);
        if (a === undefined) return false;
        if (spill) {
          if (row.priceDecimals > decimals.price) decimals.price = row.priceDecimals;
          if (row.sizeDecimals > decimals.size) decimals.size = row.sizeDecimals;
        }
        stopped = tally(a.onTradeRow(row, 0, out), line, row.tradeId);
        return stopped;
      },
      item: (item) => {
        stats.lines = item.line;
        if (item.kind === 'reject') {
          if (markets.size > 1) return false;
          stopped = bad(item.line, item.reason, item.message);
          return stopped;
        }
        const t = item.trade;
        const a = actorOf(t);
        if (a === undefined) return false;
        if (spill) {
          const p = decimalsOf(t.price);
          if (p > decimals.price) decimals.price = p;
          const z = decimalsOf(t.size);
          if (z > decimals.size) decimals.size = z;
        }
        stopped = tally(a.onTrade(t, 0, out), item.line, t.tradeId);
        return stopped;
      },
      block: async () => {
        if (markets.size <= 1) await drain();
      },
    },
  );
  if (stopped) return 1;
  if (markets.size > 1) {
    io.stderr.write(
      `tickmesh candles: the file holds ${markets.size} markets (${[...markets].slice(0, 5).join(', ')}${markets.size > 5 ? ', ...' : ''}); ` +
        'the kline CSV holds one: pass --exchange and --symbol, or --output jsonl\n',
    );
    return 2;
  }
  for (const a of all) a.flush(0, out);
  await drain();
  await spill?.copyTo(io.stdout, decimals, signal);
  const omitted = Math.max(0, stats.bad - MAX_REPORTED);
  io.stderr.write(
    `tickmesh candles: ${stats.trades} trades from ${stats.lines} lines into ${stats.candles} ${opts.config.intervals[0]} candles` +
      ` (${all.length} market${all.length === 1 ? '' : 's'}); ${stats.bad} bad rows skipped${omitted ? ` (${omitted} not listed)` : ''},` +
      ` ${stats.duplicates} duplicates, ${stats.late} late, ${stats.revisions} revisions\n`,
  );
  return 0;
}

export const candlesCommand: Command = {
  name: 'candles',
  help: HELP,
  run: (argv, signal) => runCandles(argv, { stdout: process.stdout, stderr: process.stderr }, signal),
};
