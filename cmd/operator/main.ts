#!/usr/bin/env node
import { operatorCommand } from '../tickmesh/operator.js';
import { runCommand } from '../tickmesh/run-command.js';

// The operator as its own entry point; `tickmesh operator` runs the same. The first SIGTERM
// drains (stops leading, releases the Lease); a second one exits at once.
runCommand(operatorCommand, process.argv.slice(2));
