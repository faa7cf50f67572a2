import { tlsFailure } from '../config/secret-file.js';
import { TickmeshError, UnavailableError } from '../runtime/errors.js';

// "jetstream is not enabled" is also what a server that is shutting down answers (seen while
// restarting NATS under a running worker). A server that never has JetStream therefore makes the
// stream creation at startup retry; the cause's text stays in the message so that it shows.
const UNAVAILABLE =
  /TIMEOUT|timeout|no responders|503|CONNECTION_|DISCONNECT|closed|ECONNREFUSED|ECONNRESET|jetstream (is )?not enabled/i;

/** A NATS client error as UnavailableError (retriable) when the server is away; anything else as it is. */
export function classifyNatsError(err: unknown, what: string): unknown {
  if (err instanceof TickmeshError) return err;
  const e = err as { name?: string; code?: string; message?: string } | null;
  const text = `${e?.name ?? ''} ${e?.code ?? ''} ${e?.message ?? ''}`;
  return UNAVAILABLE.test(text)
    ? new UnavailableError(`nats unavailable: ${what}: ${e?.message ?? text.trim()}`, { cause: err })
    : err;
}

/** Why the server refused this client (credentials or TLS); undefined for anything else. */
export function natsSecurityFailure(err: unknown): string | undefined {
  const tls = tlsFailure(err);
  if (tls) return tls;
  for (let e = err as { message?: string; code?: string; cause?: unknown } | undefined, d = 0; e && d < 8; d++) {
    const text = `${e.code ?? ''} ${e.message ?? ''}`;
    if (
      /authorization violation|authentication|AUTHORIZATION_VIOLATION|user authentication expired|permissions violation/i.test(
        text,
      )
    ) {
      return `the server refused the credentials (${e.message ?? e.code})`;
    }
    if (/does not support '?tls'?|tls required|secure connection required/i.test(text)) {
      return `TLS mismatch (${e.message ?? e.code}): one side requires TLS, the other does not offer it`;
    }
    e = e.cause as typeof e;
  }
  return undefined;
}

/** JetStream's answer for a stream that does not exist. */
export function isStreamNotFound(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: number; api_error?: { err_code?: number } } | null;
  return e?.name === 'StreamNotFoundError' || /stream not found/i.test(e?.message ?? '');
}
