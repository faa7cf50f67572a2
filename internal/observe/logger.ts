import { type Logger, pino } from 'pino';
import { prettyDestination } from './pretty-log.js';

export type { Logger };

/** Anything lines can be written to: a stream, a LogTail. */
export interface LogDestination {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

export interface LoggerOptions {
  readonly level: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  readonly destination?: LogDestination;
  /**
   * Lines for people (pretty-log.ts) instead of JSON. Default: when the destination is a
   * terminal, so that a process run by hand reads well and one whose output is piped or collected
   * writes JSON. Colours only on a terminal.
   */
  readonly pretty?: boolean;
}

/**
 * The one logger factory. Components take a Logger in their dependencies and make child loggers
 * (`logger.child({ component: 'feed', venue })`); messages are constants, variables are fields.
 */
export function createLogger(options: LoggerOptions): Logger {
  const out: LogDestination = options.destination ?? process.stdout;
  const tty = out.isTTY === true;
  const destination = (options.pretty ?? tty) ? prettyDestination(out, { color: tty }) : out;
  return pino({ level: options.level, base: undefined }, destination);
}

/** A logger that writes nothing, for pure tests and tools that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
