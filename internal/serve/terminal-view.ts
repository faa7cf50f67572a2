import type { Bus } from '../bus/bus.js';
import type { Candle } from '../market/candle.js';
import type { LogTail } from '../observe/log-tail.js';

export interface TerminalViewDeps {
  readonly bus: Bus;
  readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Candle interval shown. */
  readonly interval: string;
  /** Shown in the header: where the trades come from (`binance live`, `SIMULATED`). */
  readonly source: string;
  /** On a terminal: redraw period. */
  readonly refreshMs: number;
  /** Elsewhere: each market's open candle is printed at most this often, when it changed. Default 5,000. */
  readonly openLineMs?: number;
  /** On a terminal: the process's recent log lines, shown under the table while the view holds the screen. */
  readonly logTail?: LogTail;
}

interface Row {
  candle: Candle;
  updatedAt: number;
}

const decoder = new TextDecoder();
const DEFAULT_OPEN_LINE_MS = 5_000;

/**
 * Live candles in the terminal, read from the bus as any other consumer would. On a TTY the
 * open (partial) and last closed candle of every market at one interval are redrawn in place,
 * with the recent log lines below; elsewhere (piped, collected) it prints lines: each market's
 * open candle every few seconds while it changes, and each candle as it closes. The newest update
 * per market is kept by (open time, revision, trade count), so repeats and reordering are
 * harmless.
 */
export function startTerminalView(deps: TerminalViewDeps, signal: AbortSignal): Promise<void> {
  const open = new Map<string, Row>();
  const closed = new Map<string, Row>();
  /** Non-TTY: the open candle each market's last printed line showed. */
  const printed = new Map<string, string>();
  const sub = deps.bus.subscribe(`tickmesh.candle.*.${deps.interval}.>`, { signal, capacity: 50_000 });
  const tty = deps.out.isTTY === true;
  let timer: NodeJS.Timeout;
  if (tty) {
    deps.logTail?.hold();
    timer = setInterval(() => deps.out.write(render(deps, open, closed)), deps.refreshMs);
  } else {
    deps.out.write(
      `tickmesh dev · ${deps.interval} candles · source: ${deps.source} · each market's open candle every ${(deps.openLineMs ?? DEFAULT_OPEN_LINE_MS) / 1000} s while it changes, and every candle as it closes\n`,
    );
    timer = setInterval(() => {
      for (const key of [...open.keys()].sort()) {
        const c = live(open, closed, key);
        if (!c) continue;
        const seen = `${c.openTime}:${c.trades}:${c.close}`;
        if (printed.get(key) === seen) continue;
        printed.set(key, seen);
        deps.out.write(line(c, key, 'open  ', deps.source));
      }
    }, deps.openLineMs ?? DEFAULT_OPEN_LINE_MS);
  }
  return (async () => {
    try {
      for await (const msg of sub) {
        const c = JSON.parse(decoder.decode(msg.data)) as Candle;
        const key = `${c.exchange}:${c.symbol}`;
        const target = c.closed ? closed : open;
        const prev = target.get(key)?.candle;
        if (prev && !newer(c, prev)) continue;
        target.set(key, { candle: c, updatedAt: Date.now() });
        if (c.closed && !tty) deps.out.write(line(c, key, 'closed', deps.source));
      }
    } finally {
      clearInterval(timer);
      deps.logTail?.release();
    }
  })();
}

function newer(a: Candle, b: Candle): boolean {
  if (a.openTime !== b.openTime) return a.openTime > b.openTime;
  if (a.revision !== b.revision) return a.revision > b.revision;
  return a.trades >= b.trades;
}

/** The market's open candle, unless the window it is of has closed since. */
function live(open: Map<string, Row>, closed: Map<string, Row>, key: string): Candle | undefined {
  const c = open.get(key)?.candle;
  const last = closed.get(key)?.candle;
  return c && (!last || c.openTime > last.openTime) ? c : undefined;
}

function line(c: Candle, key: string, kind: string, source: string): string {
  return `${new Date(c.openTime).toISOString()} ${c.interval} ${key.padEnd(24)} ${kind} O ${c.open} H ${c.high} L ${c.low} C ${c.close} V ${c.volume} n ${c.trades}${c.revision > 0 ? ` rev ${c.revision}` : ''} [${source}]\n`;
}

function render(deps: TerminalViewDeps, open: Map<string, Row>, closed: Map<string, Row>): string {
  const lines = [
    `tickmesh dev · ${deps.interval} candles · source: ${deps.source} · ${new Date().toISOString()}`,
    '',
    `${'market'.padEnd(26)}${'open'.padStart(14)}${'high'.padStart(14)}${'low'.padStart(14)}${'close'.padStart(14)}${'volume'.padStart(16)}${'trades'.padStart(8)}  last closed`,
  ];
  for (const key of [...new Set([...open.keys(), ...closed.keys()])].sort()) {
    const c = live(open, closed, key);
    const last = closed.get(key)?.candle;
    const cols = c
      ? `${c.open.padStart(14)}${c.high.padStart(14)}${c.low.padStart(14)}${c.close.padStart(14)}${c.volume.padStart(16)}${String(c.trades).padStart(8)}`
      : ' '.repeat(80);
    const tail = last
      ? `  ${new Date(last.openTime).toISOString().slice(11, 16)} C ${last.close} V ${last.volume}`
      : '';
    lines.push(`${key.padEnd(26)}${cols}${tail}`);
  }
  if (open.size + closed.size === 0) lines.push('(waiting for the first trades)');
  const logs = deps.logTail?.recent() ?? [];
  if (logs.length > 0) {
    const width = deps.out.columns ?? 160;
    lines.push('', 'recent log:', ...logs.map((l) => `  ${l.length > width - 2 ? `${l.slice(0, width - 3)}…` : l}`));
  }
  lines.push('', 'Ctrl-C drains (commits a final checkpoint) and exits.');
  // Home the cursor and clear below: redraw in place without scrolling.
  return `\x1b[H\x1b[J${lines.join('\n')}\n`;
}
