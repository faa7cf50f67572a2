#!/usr/bin/env node
import { ingestCommand } from '../tickmesh/ingest.js';
import { runCommand } from '../tickmesh/run-command.js';

// Ingest as its own entry point; `tickmesh ingest` runs the same.
runCommand(ingestCommand, process.argv.slice(2));
