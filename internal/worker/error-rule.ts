import { InputError, isRetriable } from '../runtime/errors.js';

/**
 * The worker's one rule for errors (docs/WORKER.md, "Errors"):
 *
 * - `data`: a record that cannot be stored or is impossible (it does not decode, a field that
 *   PostgreSQL refuses, a row the store refuses with a data-class SQLSTATE). It goes to the
 *   rejected topic with its reason and the partition goes on. The same record is rejected again
 *   on replay, because whether it is refused depends on the record alone.
 * - `retriable`: a server away or out of a resource for now (UnavailableError; PostgreSQL 08xxx,
 *   53xxx, 40001, 40P01, 57P0x). Retried with backoff (COMMIT_RETRY and OUTPUT_RETRY in
 *   runtime/retry-policies.ts); the partition shows it on /readyz and in
 *   `tickmesh_worker_commit_errors_total` or `..._output_errors_total`.
 * - `fatal`: anything else. The partition fails (a metric, /readyz and /healthz false, a log
 *   line naming it) and the process exits non-zero so that the platform restarts it: nothing
 *   retries what cannot succeed.
 */
export type ErrorKind = 'data' | 'retriable' | 'fatal';

export function classifyError(err: unknown): ErrorKind {
  if (err instanceof InputError) return 'data';
  return isRetriable(err) ? 'retriable' : 'fatal';
}

/** The most specific code of an error for a metric label: the SQLSTATE or driver code of its cause, else its own. */
export function errorCode(err: unknown): string {
  for (let e = err, depth = 0; e != null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('TM_')) return code;
  }
  const own = (err as { code?: unknown } | null)?.code;
  return typeof own === 'string' ? own : 'unknown';
}
