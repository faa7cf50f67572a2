import { describe, expect, it } from 'vitest';
import { API_FLAGS } from './api.js';
import { CANDLES_FLAGS } from './candles.js';
import { DEV_FLAGS } from './dev.js';
import { ENDPOINT_FLAGS } from './endpoints.js';
import { INGEST_HELP } from './ingest.js';
import { OPERATOR_FLAGS, OPERATOR_HELP } from './operator.js';
import { type FlagSpec, flagHelp, flagName } from './parse-flags.js';
import { REPLAY_HELP } from './replay.js';
import { TOPICS_FLAGS } from './topics.js';
import { VERIFY_FLAGS } from './verify.js';
import { WORKER_FLAGS } from './worker.js';

const SPECS: Record<string, FlagSpec> = {
  API_FLAGS,
  CANDLES_FLAGS,
  DEV_FLAGS,
  ENDPOINT_FLAGS,
  OPERATOR_FLAGS,
  TOPICS_FLAGS,
  VERIFY_FLAGS,
  WORKER_FLAGS,
};

describe("every command's --help", () => {
  it.each(Object.entries(SPECS))('%s: lists each flag once, with its environment variable', (_, spec) => {
    const help = flagHelp(spec);
    for (const [key, f] of Object.entries(spec)) {
      const name = flagName(key, f);
      expect(help.match(new RegExp(`^  --${name}( |$)`, 'gm')), name).toHaveLength(1);
      if (f.env) expect(help.replace(/\s+/g, ' '), name).toContain(`env ${f.env})`);
    }
  });

  it('prints the defaults from the schemas', () => {
    const flat = (s: string) => s.replace(/\s+/g, ' ');
    expect(flat(OPERATOR_HELP)).toContain('--lease-duration S lease duration in seconds (default 15)');
    expect(flat(flagHelp(WORKER_FLAGS))).toContain('(default 1s=2d,1m=30d,3m=60d,5m=90d,15m=180d,30m=365d)');
    expect(flat(flagHelp(WORKER_FLAGS))).toContain(
      '--alert-retention DURATION how long alerts are kept, by event time (or forever) (default 90d)',
    );
    expect(flat(INGEST_HELP)).toContain(
      '--stale-after S reconnect after S seconds without any frame; 0 disables (default 60)',
    );
    expect(flat(REPLAY_HELP)).toContain('--log-level LEVEL pino level (default warn; env LOG_LEVEL)');
  });
});
