/**
 * One `tickmesh` subcommand. Each lives in its own file beside main.ts; its flags are a FlagSpec
 * in internal/config/ (flags override the environment: KAFKA_BROKERS, NATS_URL, REDIS_URL,
 * DATABASE_URL, KUBECONFIG), and its help prints them from there.
 * `run` resolves with the process exit code; `signal` aborts on SIGINT/SIGTERM.
 */
export interface Command {
  readonly name: string;
  /** Full help text: every option, its default and the environment variable behind it. */
  readonly help: string;
  run(argv: readonly string[], signal: AbortSignal): Promise<number>;
}
