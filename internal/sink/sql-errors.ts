import { InputError, TickmeshError, UnavailableError } from '../runtime/errors.js';

/**
 * What a PostgreSQL error (pg or PGlite: both carry the SQLSTATE as `code`) means to tickmesh,
 * decided by its SQLSTATE class (PostgreSQL manual, Appendix A):
 *
 * - the server, not the statement, failed: retriable (UnavailableError). Class 08 (connection),
 *   53 (insufficient resources: 53100 disk full, 53200 out of memory, 53300 too many
 *   connections), 40001 and 40P01 (serialization failure, deadlock), 55P03 (lock not
 *   available), 57P01-57P03 (shutdown, crash, cannot connect now), 57014 (statement timeout),
 *   58000 and 58030 (system and I/O error);
 * - a value the database cannot store: InputError `store-refused` (class 22, data exception,
 *   e.g. 22P05 a NUL character in text; class 23, integrity constraint violation), the caller's
 *   data error;
 * - anything else (a programming error, a missing table): unchanged.
 */
const RETRIABLE_SQLSTATE = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '57014', '58000', '58030']);
const RETRIABLE_CLASSES = new Set(['08', '53']);
const DATA_CLASSES = new Set(['22', '23']);

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isRetriableSqlState(code: string): boolean {
  return RETRIABLE_SQLSTATE.has(code) || RETRIABLE_CLASSES.has(code.slice(0, 2));
}

/** `err` as UnavailableError, InputError or unchanged (see above); tickmesh's own errors pass through. */
export function classifySqlError(err: unknown): unknown {
  if (err instanceof TickmeshError) return err;
  const code = sqlState(err);
  if (code === undefined) return err;
  const message = (err as { message?: unknown }).message;
  const text = typeof message === 'string' ? message : String(err);
  if (isRetriableSqlState(code)) return new UnavailableError(`postgres ${code}: ${text}`, { cause: err });
  if (DATA_CLASSES.has(code.slice(0, 2))) {
    return new InputError('store-refused', `postgres refused a value (${code}): ${text}`, { cause: err });
  }
  return err;
}
