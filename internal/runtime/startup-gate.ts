import type { Logger } from 'pino';
import { ConfigError, isRetriable, TickmeshError } from './errors.js';
import { retry } from './retry.js';

export interface StartupGateDeps {
  readonly logger: Logger;
  /** Aborting it ends every wait: until() resolves undefined. */
  readonly signal: AbortSignal;
  /** Backoff between attempts for a server that did not answer: first and largest delay, ms. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /**
   * The delay after a refusal that retrying soon cannot change (a wrong password, a certificate
   * that does not verify): the fix is in the server or a new value, ms.
   */
  readonly refusedDelayMs?: number;
  readonly clock?: () => number;
}

/** Errors of the program itself, never retried: the process exits with them. */
function isProgrammerError(err: unknown): boolean {
  return (
    err instanceof ConfigError ||
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError
  );
}

/** The messages of `err` and its causes, outermost first, without repeats: what a reader needs, no stack. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message !== '' && !parts.some((p) => p.includes(message))) parts.push(message);
    e = (e as { cause?: unknown; originalError?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return parts.join(': ');
}

/**
 * What a long-running command waits for before it serves: its servers. The command starts its
 * probe server first and asks the gate for readiness, so that a server that is unreachable or
 * refuses the credentials shows as a pod that is running, not Ready, with the reason on /readyz
 * and in one log line: one `warn` per distinct failure (its error's name, code and messages, no
 * stack), then quiet retries, then one `info` once connected. Nothing restarts the process for
 * it: a liveness probe sees a live process, and a restart would not change the values it runs
 * with. A ConfigError or a programmer error is not waited out: until() rejects with it.
 */
export class StartupGate {
  private waitingFor: string | undefined = 'starting';
  private lastFailure: string | undefined;
  private opened = false;

  constructor(private readonly deps: StartupGateDeps) {}

  /** Why the process is not ready yet; undefined once open() was called. */
  reason(): string | undefined {
    if (this.opened) return undefined;
    return this.lastFailure ? `waiting for ${this.waitingFor}: ${this.lastFailure}` : `waiting for ${this.waitingFor}`;
  }

  /** Every server answered: readiness is the command's own from now on. */
  open(): void {
    this.opened = true;
  }

  /**
   * Runs `attempt` until it resolves, and resolves with its value; undefined when the signal
   * aborts first. `server` names what is waited for (kafka, postgres, nats, redis).
   */
  async until<T>(server: string, attempt: () => Promise<T>): Promise<T | undefined> {
    const { logger, signal } = this.deps;
    const clock = this.deps.clock ?? Date.now;
    const since = clock();
    let reported: string | undefined;
    let failures = 0;
    this.waitingFor = server;
    this.lastFailure = undefined;
    try {
      const value = await retry(() => attempt(), {
        initialDelayMs: this.deps.initialDelayMs ?? 500,
        maxDelayMs: this.deps.maxDelayMs ?? 5_000,
        maxAttempts: Number.POSITIVE_INFINITY,
        signal,
        retriable: (err) => !isProgrammerError(err),
        minDelayOf: (err) => (isRetriable(err) ? undefined : (this.deps.refusedDelayMs ?? 15_000)),
        onRetry: (err) => {
          failures += 1;
          const detail = describeError(err);
          this.lastFailure = detail;
          const error = err instanceof Error ? err.name : typeof err;
          const key = `${error} ${detail}`;
          if (key === reported) return;
          reported = key;
          logger.warn(
            {
              server,
              error,
              code: err instanceof TickmeshError ? err.code : (err as { code?: unknown } | null)?.code,
              retriable: isRetriable(err),
              detail,
            },
            'server not available at start; not ready, retrying',
          );
        },
      });
      if (failures > 0) logger.info({ server, failures, waitedMs: clock() - since }, 'server available');
      this.lastFailure = undefined;
      return value;
    } catch (err) {
      if (signal.aborted) return undefined;
      throw err;
    }
  }
}

/** Makes the gate that keeps a role not ready until its servers answer. */
export function createStartupGate(deps: StartupGateDeps): StartupGate {
  return new StartupGate(deps);
}
