import type { Bus } from '../bus/bus.js';
import type { Candle } from '../market/candle.js';

export interface TerminalViewDeps {
  readonly bus: Bus;
  readonly out: NodeJS.WritableStream & { isTTY?: boolean };
  /** Candle interval shown. */
  readonly interval: string;
  /** Shown in the header: where the trades come from (`binance live`, `SIMULATED`). */
  readonly source: string;
  readonly refreshMs: number;
}

interface Row {
  candle: Candle;
  updatedAt: number;
}

const decoder = new TextDecoder();

/**
 * Live candles in the terminal: the open (partial) and last closed candle of every market at
 * one interval, redrawn in place on a TTY; elsewhere one line per closed candle. It reads only
 * the bus, as any other consumer would, and keeps the newest update per market by
 * (open time, revision, trade count), so repeats and reordering are harmless.
 */
export function startTerminalView(deps: TerminalViewDeps, signal: AbortSignal): Promise<void> {
  const open = new Map<string, Row>();
  const closed = new Map<string, Row>();
  const sub = deps.bus.subscribe(`tickmesh.candle.*.${deps.interval}.>`, { signal, capacity: 50_000 });
  const tty = deps.out.isTTY === true;
  const timer = tty ? setInterval(() => deps.out.write(render(deps, open, closed)), deps.refreshMs) : undefined;
  return (async () => {
    try {
      for await (const msg of sub) {
        const c = JSON.parse(decoder.decode(msg.data)) as Candle;
        const key = `${c.exchange}:${c.symbol}`;
        const target = c.closed ? closed : open;
        const prev = target.get(key)?.candle;
        if (prev && !newer(c, prev)) continue;
        target.set(key, { candle: c, updatedAt: Date.now() });
        if (c.closed && !tty) {
          deps.out.write(
            `${new Date(c.openTime).toISOString()} ${c.interval} ${key.padEnd(24)} O ${c.open} H ${c.high} L ${c.low} C ${c.close} V ${c.volume} n ${c.trades}${c.revision > 0 ? ` rev ${c.revision}` : ''} [${deps.source}]\n`,
          );
        }
      }
    } finally {
      clearInterval(timer);
    }
  })();
}

function newer(a: Candle, b: Candle): boolean {
  if (a.openTime !== b.openTime) return a.openTime > b.openTime;
  if (a.revision !== b.revision) return a.revision > b.revision;
  return a.trades >= b.trades;
}

function render(deps: TerminalViewDeps, open: Map<string, Row>, closed: Map<string, Row>): string {
  const lines = [
    `tickmesh dev · ${deps.interval} candles · source: ${deps.source} · ${new Date().toISOString()}`,
    '',
    `${'market'.padEnd(26)}${'open'.padStart(14)}${'high'.padStart(14)}${'low'.padStart(14)}${'close'.padStart(14)}${'volume'.padStart(16)}${'trades'.padStart(8)}  last closed`,
  ];
  for (const key of [...new Set([...open.keys(), ...closed.keys()])].sort()) {
    const c = open.get(key)?.candle;
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
  lines.push('', 'Ctrl-C drains (commits a final checkpoint) and exits.');
  // Home the cursor and clear below: redraw in place without scrolling.
  return `\x1b[H\x1b[J${lines.join('\n')}\n`;
}
