/**
 * Log lines for people: what pino writes as one JSON object per line, rewritten as
 * `12:34:56.789 WARN  [ingest] message  key=value …` with the error's stack below it. Only for
 * a terminal: anything that reads logs (a collector, a test, `jq`) gets the JSON.
 */

export interface PrettyOptions {
  /** ANSI colours for the level and the fields. */
  readonly color: boolean;
}

const LEVELS: Record<number, [label: string, color: string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[90m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[41m\x1b[97m'],
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** Fields shown in the line's head, or not as key=value. */
const HEAD = new Set(['level', 'time', 'msg', 'component', 'err']);

interface ErrorField {
  readonly type?: string;
  readonly message?: string;
  readonly stack?: string;
  readonly code?: string;
}

/** One pino JSON line as a line for people; a line that is not a JSON object comes back as it is. */
export function prettyLine(line: string, options: PrettyOptions): string {
  let o: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return line;
    o = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const paint = (code: string, s: string) => (options.color ? `${code}${s}${RESET}` : s);
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const [label, color] = LEVELS[o.level as number] ?? [String(o.level ?? '').padEnd(5), ''];
  const parts = [paint(DIM, time), paint(color, label)];
  if (typeof o.component === 'string') parts.push(`[${o.component}]`);
  parts.push(String(o.msg ?? ''));
  const fields = Object.entries(o)
    .filter(([k, v]) => !HEAD.has(k) && v !== undefined)
    .map(([k, v]) => `${paint(DIM, `${k}=`)}${value(v)}`);
  let text = parts.filter((p) => p !== '').join(' ');
  if (fields.length > 0) text += `  ${fields.join(' ')}`;
  const err = o.err as ErrorField | undefined;
  if (err && typeof err === 'object') {
    const head = `${err.type ?? 'Error'}${err.code ? ` (${err.code})` : ''}: ${err.message ?? ''}`;
    const stack = (err.stack ?? '').split('\n').slice(1);
    text += `\n    ${paint(options.color ? '\x1b[31m' : '', head)}`;
    for (const s of stack) text += `\n    ${paint(DIM, s.trim())}`;
  }
  return text;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * A pino destination that writes every line it gets through prettyLine to `out`. pino hands a
 * destination one whole line per write.
 */
export function prettyDestination(
  out: { write(chunk: string): unknown },
  options: PrettyOptions,
): { write(s: string): void } {
  return {
    write(chunk: string): void {
      const lines = chunk.split('\n').filter((l) => l !== '');
      out.write(lines.map((l) => `${prettyLine(l, options)}\n`).join(''));
    },
  };
}
