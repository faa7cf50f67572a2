import { UnavailableError } from '../runtime/errors.js';

/** The HTTP status of a failed @kubernetes/client-node call (its ApiException's `code`), if any. */
export function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number') return err.code;
  return undefined;
}

/**
 * A failed API call as a tickmesh error: a 4xx other than 408/429 is a request the server will
 * never accept (not retriable); anything else (5xx, timeouts, refused connections) is
 * UnavailableError.
 */
export function kubeError(message: string, err: unknown): Error {
  const status = statusOf(err);
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new Error(`${message}: HTTP ${status}`, { cause: err });
  }
  return new UnavailableError(message, { cause: err });
}
