#!/usr/bin/env node
import { parseOperatorConfig } from './config.js';
import { runOperator } from './run.js';

// The operator as its own entry point (`tickmesh operator` runs the same). The first SIGTERM or
// SIGINT drains (stops leading, releases the Lease); a second one exits at once.
const controller = new AbortController();
let signals = 0;
const onSignal = (sig: NodeJS.Signals): void => {
  if (++signals > 1) process.exit(130);
  controller.abort(new Error(`received ${sig}`));
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

runOperator(parseOperatorConfig(process.argv.slice(2), process.env), controller.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`operator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
