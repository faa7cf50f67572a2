#!/usr/bin/env node
import { runCommand } from '../tickmesh/run-command.js';
import { workerCommand } from '../tickmesh/worker.js';

// The worker as its own entry point; `tickmesh worker` runs the same.
runCommand(workerCommand, process.argv.slice(2));
