import { z } from 'zod';
import { PLANT_KINDS, parsePlantedDiscrepancy } from '../ingest/sim-klines.js';
import { COMPRESSIONS } from '../log/compression.js';
import { INTERVALS, type Interval } from '../market/interval.js';
import type { FlagSpec } from './parse-flags.js';

/** Flag schemas that several commands share (their option files parse flags with zod). */

/** A text flag taken as given (its command or the adapter checks it); absent when not given. */
export const textFlag = z.string().optional();

/** An integer flag in [min, max], given as text. */
export const intFlag = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** An instant, ISO 8601 (`2020-02-22T00:01Z`) or Unix ms, as epoch ms. */
export const timeFlag = z.string().transform((s, ctx) => {
  const t = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isSafeInteger(t)) {
    ctx.addIssue({ code: 'custom', message: `${s} is neither ISO 8601 nor Unix ms` });
    return z.NEVER;
  }
  return t;
});

/** `true` or `false`. */
export const boolFlag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** A pino level; info when not given. */
export const logLevelFlag = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** A PostgreSQL schema name, used unquoted-safe in SQL: a lowercase identifier. */
export const sqlSchemaFlag = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase SQL identifier');

/**
 * A comma-separated list of known intervals (`1m,5m,1h`), `fallback` when absent; each unknown
 * one is named by the error.
 */
export const intervalListFlag = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const list = s.split(',').map((x) => x.trim());
      const bad = list.filter((i) => !(INTERVALS as readonly string[]).includes(i));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown interval(s) ${bad.join(', ')}; known: ${INTERVALS.join(' ')}`,
        });
        return z.NEVER;
      }
      return list as Interval[];
    });

/** `--compression` of the Kafka producers: zstd (default), gzip or none. */
export const compressionFlag = z.enum(COMPRESSIONS, { error: `expected ${COMPRESSIONS.join(', ')}` }).default('zstd');

/** The probe port and log level of the long-running commands that read them from the environment too. */
export const PROCESS_FLAGS = {
  metricsPort: {
    schema: intFlag(0, 65_535).default(9464),
    arg: 'PORT',
    env: 'TICKMESH_METRICS_PORT',
    help: '/metrics /healthz /readyz; 0 picks a free port',
  },
  logLevel: { schema: logLevelFlag, arg: 'LEVEL', env: 'LOG_LEVEL', help: 'pino level' },
} as const satisfies FlagSpec;

/** `MARKET[:KIND]` of a discrepancy planted in the simulator's klines. */
export const plantedDiscrepancyFlag = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (s === undefined || s.trim() === '') return undefined;
    const plant = parsePlantedDiscrepancy(s);
    if (plant === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected MARKET or MARKET:KIND (KIND: ${PLANT_KINDS.join(', ')})` });
      return z.NEVER;
    }
    return plant;
  });
