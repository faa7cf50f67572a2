#!/usr/bin/env node
import type { Command } from './command.js';
import { runCommand } from './run-command.js';

/**
 * Subcommands register here, one line each. A command's module is imported only when it runs:
 * every module imported up front cost each command the others' start-up time and heap
 * (docs/BENCHMARKS.md, the offline bench).
 */
const commands: readonly { name: string; summary: string; load: () => Promise<Command> }[] = [
  {
    name: 'dev',
    summary: 'run everything in one process on embedded adapters (npm start)',
    load: async () => (await import('./dev.js')).devCommand,
  },
  {
    name: 'worker',
    summary: 'consume placed partitions: actors, exactly-once candles in PostgreSQL, NATS and Redis outputs',
    load: async () => (await import('./worker.js')).workerCommand,
  },
  {
    name: 'operator',
    summary: 'place partitions on Ready worker pods (leader-elected; publishes to ConfigMap and KV)',
    load: async () => (await import('./operator.js')).operatorCommand,
  },
  {
    name: 'candles',
    summary: 'build exact candles offline from an exchange trade file',
    load: async () => (await import('./candles.js')).candlesCommand,
  },
  {
    name: 'ingest',
    summary: 'stream live exchange trades (or the simulator) into Kafka, deduplicated and gap-checked',
    load: async () => (await import('./ingest.js')).ingestCommand,
  },
  {
    name: 'replay',
    summary: 'feed a trade file (tardis, Binance CSV, JSON lines, WebSocket capture) into Kafka',
    load: async () => (await import('./replay.js')).replayCommand,
  },
  {
    name: 'archive',
    summary: 'write the trades topic to Hive-partitioned Parquet (local or S3), exactly once',
    load: async () => (await import('./archive.js')).archiveCommand,
  },
  {
    name: 'export',
    summary: 'candles, indicators or alerts of a market and time range to Parquet or CSV',
    load: async () => (await import('./export.js')).exportCommand,
  },
  {
    name: 'models',
    summary: 'refresh the SQL models (hourly and daily summaries, movers, volatility, spreads)',
    load: async () => (await import('./models.js')).modelsCommand,
  },
  {
    name: 'api',
    summary: 'serve REST, WebSocket live updates and the web dashboard',
    load: async () => (await import('./api.js')).apiCommand,
  },
  {
    name: 'api-key',
    summary: 'make an API key and the line of the keys file that accepts it',
    load: async () => (await import('./api-key.js')).apiKeyCommand,
  },
  {
    name: 'topics',
    summary: 'create the Kafka topics (trades, late, rejected, gaps) if they do not exist',
    load: async () => (await import('./topics.js')).topicsCommand,
  },
  {
    name: 'verify',
    summary: "check stored candles against the exchange's own klines (REST)",
    load: async () => (await import('./verify.js')).verifyCommand,
  },
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
const entry = commands.find((c) => c.name === name);
if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
} else if (!entry) {
  process.stderr.write(`tickmesh: unknown command '${name}'\n\n${usage()}`);
  process.exitCode = 2;
} else {
  runCommand(await entry.load(), rest);
}
