import { ConfigError } from '../../internal/runtime/errors.js';
import { OPERATOR_HELP, parseOperatorConfig } from '../operator/config.js';
import { runOperator } from '../operator/run.js';
import type { Command } from './command.js';

export const operatorCommand: Command = {
  name: 'operator',
  summary: 'place partitions on Ready worker pods (leader-elected; publishes to ConfigMap and KV)',
  help: OPERATOR_HELP,
  async run(argv, signal) {
    let config: ReturnType<typeof parseOperatorConfig>;
    try {
      config = parseOperatorConfig(argv, process.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`tickmesh ${err.message}\n`);
      return 2;
    }
    return runOperator(config, signal);
  },
};
