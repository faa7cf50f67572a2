#!/usr/bin/env node
import { apiCommand } from '../tickmesh/api.js';
import { runCommand } from '../tickmesh/run-command.js';

// The API as its own entry point; `tickmesh api` runs the same.
runCommand(apiCommand, process.argv.slice(2));
