#!/usr/bin/env node
import { INGEST_HELP, parseIngestConfig } from '../../internal/config/ingest.js';
import { ConfigError } from '../../internal/runtime/errors.js';
import { runIngest } from './run.js';

// Ingest as its own entry point (`tickmesh ingest` runs the same). The first SIGTERM or SIGINT
// drains (stop taking frames, produce what was received); a second one exits at once.
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(INGEST_HELP);
} else {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(130);
    controller.abort(new Error(`received ${sig}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  Promise.resolve()
    .then(() => runIngest(parseIngestConfig(argv, process.env), controller.signal))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        process.stderr.write(`ingest: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = err instanceof ConfigError ? 2 : 1;
      },
    );
}
