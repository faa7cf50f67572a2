import { z } from 'zod';
import { type FlagSpec, flagHelp, parseFlagValues, readArgs } from '../../internal/config/parse-flags.js';
import { newApiKey } from '../../internal/serve/api-keys.js';
import type { Command } from './command.js';

const FLAGS = {
  name: {
    schema: z.string().regex(/^\S+$/, 'no whitespace').default('key'),
    arg: 'NAME',
    help: 'name of the key in the keys file (logs and rate limits)',
  },
} as const satisfies FlagSpec;

const HELP = `tickmesh api-key: make an API key and the line of --api-keys-file that accepts it

Prints the key (give it to the client; it is not stored anywhere) on stdout's first line and
the keys-file line, its SHA-256 with the name and role, on the second. The same by hand:
  key="tm_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')"
  printf '%s' "$key" | sha256sum | cut -d' ' -f1

options:
${flagHelp(FLAGS)}
`;

export const apiKeyCommand: Command = {
  name: 'api-key',
  help: HELP,
  async run(argv) {
    const { name } = parseFlagValues(FLAGS, readArgs(FLAGS, argv));
    const { key, line } = newApiKey(name);
    process.stdout.write(`${key}\n${line}\n`);
    return 0;
  },
};
