import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError } from '../runtime/errors.js';

/**
 * One command-line flag, written once: how its text parses (its default included), what --help
 * says about it, and the environment variable it falls back to.
 */
export interface Flag<S extends z.ZodType = z.ZodType> {
  /**
   * Parses the flag's text, or `true` for a switch. Its `.default()` applies when neither the flag
   * nor its environment variable is given, and --help prints it.
   */
  readonly schema: S;
  /** What the flag does, for --help (wrapped there; no trailing period). */
  readonly help: string;
  /** The value's placeholder in --help (`N`, `NAME`, `true|false`); without it the flag is a switch. */
  readonly arg?: string;
  /** Read when the flag is absent; an empty variable counts as absent. */
  readonly env?: string;
  /** The flag's name, when it is not the key in kebab case (`leaseDurationSeconds`: `lease-duration`). */
  readonly flag?: string;
  /** The default in words, for a default computed elsewhere (the host name) or one that reads better so. */
  readonly defaultHelp?: string;
}

/** A command's flags by the key its parsed value goes under. */
export type FlagSpec = Readonly<Record<string, Flag>>;

/** What parseFlags returns: every key of the spec with its schema's output. */
export type FlagValues<S extends FlagSpec> = { readonly [K in keyof S]: z.output<S[K]['schema']> };

/** The raw values by flag name, as given on the command line or taken from the environment. */
export type RawFlags = Readonly<Record<string, string | boolean | undefined>>;

/** `maxMovesPerRound` -> `max-moves-per-round`, unless the flag names itself. */
export function flagName(key: string, flag: Flag): string {
  return flag.flag ?? key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * A command's flags from `argv` and, for the absent ones, `env`; parsed against the spec, with
 * one ConfigError naming every flag (and the environment variable it came from) that does not parse.
 */
export function parseFlags<S extends FlagSpec>(
  spec: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): FlagValues<S> {
  return parseFlagValues(spec, readArgs(spec, argv), env);
}

/** The flags given in `argv`, by flag name; ConfigError on one the spec does not have. */
export function readArgs(spec: FlagSpec, argv: readonly string[]): RawFlags {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        Object.entries(spec).map(([key, f]) => [
          flagName(key, f),
          { type: f.arg === undefined ? ('boolean' as const) : ('string' as const) },
        ]),
      ),
    }).values;
  } catch (cause) {
    throw new ConfigError(argsMessage(cause as Error & { code?: string }), { cause });
  }
}

/**
 * Raw values by flag name, over `env` for the absent ones, parsed against the spec; what is in
 * neither takes the schema's default. The result is frozen.
 */
export function parseFlagValues<S extends FlagSpec>(
  spec: S,
  raw: RawFlags,
  env: Readonly<Record<string, string | undefined>> = {},
): FlagValues<S> {
  const fromEnv = new Set<string>();
  const input: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec)) {
    const given = raw[flagName(key, f)];
    if (given !== undefined) input[key] = given;
    else if (f.env !== undefined && env[f.env]) {
      input[key] = env[f.env];
      fromEnv.add(key);
    }
  }
  const shape = Object.fromEntries(Object.entries(spec).map(([key, f]) => [key, f.schema]));
  const parsed = z.object(shape).safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]);
      const f = spec[key] as Flag;
      const what = key in input ? issue.message : `required${f.env === undefined ? '' : ` (or ${f.env})`}`;
      return `--${flagName(key, f)}${fromEnv.has(key) ? ` (from ${f.env})` : ''}: ${what}`;
    });
    throw new ConfigError(issues.join('; '));
  }
  return Object.freeze(parsed.data) as FlagValues<S>;
}

/** parseArgs's complaint, shortened to what the user typed wrong. */
function argsMessage(err: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${quoted} (see --help)`;
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument ${quoted} (see --help)`;
  return err.message.split('. ')[0] ?? err.message;
}

/** The default --help shows: `defaultHelp`, else the schema's default value, else none. */
function defaultText(f: Flag): string | undefined {
  if (f.defaultHelp !== undefined) return f.defaultHelp;
  const value = defaultValue(f.schema);
  if (value === undefined || (f.arg === undefined && value === false)) return undefined;
  return Array.isArray(value) ? value.join(',') : String(value);
}

function defaultValue(schema: z.ZodType): unknown {
  const def = schema.def as { type: string; defaultValue?: unknown; in?: z.ZodType };
  if (def.type === 'default') return def.defaultValue;
  if (def.type === 'pipe' && def.in) return defaultValue(def.in);
  return undefined;
}

const NAME_COLUMN = 32;
const WIDTH = 110;

/**
 * The --help lines of a spec: `--flag ARG`, what it does, its default and its environment
 * variable, wrapped to the terminal's usual width.
 */
export function flagHelp(spec: FlagSpec): string {
  return Object.entries(spec)
    .map(([key, f]) => {
      const head = `  --${flagName(key, f)}${f.arg === undefined ? '' : ` ${f.arg}`}`;
      const def = defaultText(f);
      const tail = [def === undefined ? '' : `default ${def}`, f.env === undefined ? '' : `env ${f.env}`]
        .filter((s) => s !== '')
        .join('; ');
      // The default and the variable stay together on one line.
      const words = [...f.help.split(' '), ...(tail === '' ? [] : [`(${tail})`])];
      const lines: string[] = [];
      let line = '';
      for (const word of words) {
        if (line !== '' && NAME_COLUMN + line.length + 1 + word.length > WIDTH) {
          lines.push(line);
          line = word;
        } else line = line === '' ? word : `${line} ${word}`;
      }
      lines.push(line);
      const indent = ' '.repeat(NAME_COLUMN);
      const first =
        head.length < NAME_COLUMN
          ? `${head.padEnd(NAME_COLUMN)}${lines.shift()}`
          : `${head}\n${indent}${lines.shift()}`;
      return [first, ...lines.map((l) => indent + l)].join('\n');
    })
    .join('\n');
}
