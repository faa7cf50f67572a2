import { OPERATOR_HELP, parseOperatorConfig } from '../../internal/config/operator.js';
import { runOperator } from '../operator/run.js';
import type { Command } from './command.js';

export const operatorCommand: Command = {
  name: 'operator',
  help: OPERATOR_HELP,
  run: async (argv, signal) => runOperator(parseOperatorConfig(argv, process.env), signal),
};
