import { describeOpenHandles } from '../../internal/runtime/open-handles.js';
import type { Command } from './command.js';

/**
 * Runs one command as the process: the one place that handles process signals. The first
 * SIGTERM or SIGINT aborts the command's signal (it drains: finishes in-flight work, commits,
 * releases); a second one exits at once. Sets the exit code from the command.
 */
/** How long a command that returned may take for its last handles to close on their own. */
const LINGER_MS = 5_000;

export function runCommand(command: Command, argv: readonly string[]): void {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${command.help.trimEnd()}\n`);
    return;
  }
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(130);
    controller.abort(new Error(`received ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  command.run(argv, controller.signal).then(
    (code) => {
      process.exitCode = code;
      // Everything was closed; a client that did not let go of its sockets (a Kafka client
      // reconnecting under its own close) must not keep a stopped process alive.
      setTimeout(() => {
        process.stderr.write(
          `tickmesh ${command.name}: handles still open ${LINGER_MS} ms after stopping; exiting (open: ${describeOpenHandles()})\n`,
        );
        process.exit(code);
      }, LINGER_MS).unref();
    },
    (err: unknown) => {
      const code = (err as { code?: string }).code ?? '';
      const name = err instanceof Error && !code.startsWith('ERR_PARSE_ARGS') ? err.name : 'ConfigError';
      // Configuration mistakes are the user's to fix: the message, not a stack.
      const text =
        name === 'ConfigError'
          ? (err as Error).message
          : err instanceof Error
            ? (err.stack ?? err.message)
            : String(err);
      process.stderr.write(`tickmesh ${command.name}: ${text}\n`);
      // A command that failed half-way (a server down while it started) may hold connections it
      // never got to close; they must not keep a failed process alive.
      process.exit(name === 'ConfigError' ? 2 : 1);
    },
  );
}
