import { type Logger, pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * The one logger factory. Components take a Logger in their dependencies and make child loggers
 * (`logger.child({ component: 'feed', venue })`); messages are constants, variables are fields.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino({ level: options.level, base: undefined }, options.destination ?? process.stdout);
}

/** A logger that writes nothing, for pure tests and tools that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
