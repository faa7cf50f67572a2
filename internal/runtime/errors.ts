/**
 * The one registry of tickmesh's error classes. Every error carries a stable `code`,
 * `retriable` (retry loops decide by it and never retry a programmer error) and `cause`.
 */
export class TickmeshError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Configuration that does not parse or does not make sense. Fix the config; never retried. */
export class ConfigError extends TickmeshError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('TM_CONFIG', message, { ...options, retriable: false });
  }
}

/** Input that cannot be turned into a valid record: counted, logged and kept, never retried. */
export class InputError extends TickmeshError {
  readonly reason: string;
  constructor(reason: string, message: string, options: { cause?: unknown } = {}) {
    super('TM_INPUT', message, { ...options, retriable: false });
    this.reason = reason;
  }
}

/** A server (Kafka, NATS, Redis, Postgres, Kubernetes API) did not answer or refused for now. */
export class UnavailableError extends TickmeshError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('TM_UNAVAILABLE', message, { ...options, retriable: true });
  }
}

/**
 * A server refused for now and said how long to wait (HTTP 429, or Binance's 418 ban, with
 * Retry-After). `retryAfterMs` is undefined when it gave no usable Retry-After.
 */
export class RateLimitedError extends UnavailableError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs: number | undefined, options: { cause?: unknown } = {}) {
    super(message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A server refused who we are or how we connect: a wrong password, a certificate that does not
 * verify against the CA, plain text towards a TLS listener. Retrying cannot help; `server` names
 * which one (kafka, nats, postgres, redis) and the message says the cause.
 */
export class ConnectionSecurityError extends TickmeshError {
  readonly server: string;
  constructor(server: string, message: string, options: { cause?: unknown } = {}) {
    super('TM_CONNECTION_SECURITY', `${server}: ${message}`, { ...options, retriable: false });
    this.server = server;
  }
}

/**
 * A peer broke its wire protocol (a WebSocket frame that RFC 6455 forbids). The connection is
 * closed with `closeCode`; a new connection may well be fine, so it is retriable.
 */
export class ProtocolError extends TickmeshError {
  readonly closeCode: number;
  constructor(closeCode: number, message: string, options: { cause?: unknown } = {}) {
    super('TM_PROTOCOL', message, { ...options, retriable: true });
    this.closeCode = closeCode;
  }
}

/** A write from a placement epoch older than the one the store holds: this owner lost the partition. */
export class FencedError extends TickmeshError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('TM_FENCED', message, { ...options, retriable: false });
  }
}

/** Shutdown did not finish within its grace period. */
export class DrainTimeoutError extends TickmeshError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('TM_DRAIN_TIMEOUT', message, { ...options, retriable: false });
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof TickmeshError ? err.retriable : false;
}
