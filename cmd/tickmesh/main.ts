#!/usr/bin/env node
import { apiCommand } from './api.js';
import { candlesCommand } from './candles.js';
import type { Command } from './command.js';
import { devCommand } from './dev.js';
import { ingestCommand } from './ingest.js';
import { operatorCommand } from './operator.js';
import { replayCommand } from './replay.js';
import { runCommand } from './run-command.js';
import { topicsCommand } from './topics.js';
import { verifyCommand } from './verify.js';
import { workerCommand } from './worker.js';

// Subcommands register here, one import each.
const commands: readonly Command[] = [
  devCommand,
  workerCommand,
  operatorCommand,
  candlesCommand,
  ingestCommand,
  replayCommand,
  apiCommand,
  topicsCommand,
  verifyCommand,
];

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

const [name, ...rest] = process.argv.slice(2);
const command = commands.find((c) => c.name === name);
if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
} else if (!command) {
  process.stderr.write(`tickmesh: unknown command '${name}'\n\n${usage()}`);
  process.exitCode = 2;
} else {
  runCommand(command, rest);
}
