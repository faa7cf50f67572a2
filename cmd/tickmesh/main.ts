#!/usr/bin/env node
import { candlesCommand } from './candles.js';
import type { Command } from './command.js';
import { devCommand } from './dev.js';
import { operatorCommand } from './operator.js';
import { workerCommand } from './worker.js';

// Subcommands register here, one import each.
const commands: readonly Command[] = [devCommand, workerCommand, operatorCommand, candlesCommand];

function usage(): string {
  const width = Math.max(8, ...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'tickmesh: exact, real-time crypto market analytics',
    '',
    'usage: tickmesh <command> [options]     tickmesh <command> --help',
    '',
    'commands:',
    ...lines,
    '',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`tickmesh: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help.trimEnd()}\n`);
    return 0;
  }
  // The one place that handles process signals: the first asks for a drain, the second forces exit.
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(130);
    controller.abort(new Error(`received ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return command.run(rest, controller.signal);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tickmesh: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
