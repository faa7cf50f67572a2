import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError } from '../runtime/errors.js';
import {
  type KafkaSecurity,
  type NatsSecurity,
  type PostgresSecurity,
  parseSecurity,
  type RedisSecurity,
  SECURITY_FLAGS,
} from './connection-security.js';

/**
 * Where the servers are. Every process reads them from the environment (what
 * `eval "$(npm run -s infra:up)"` exports) and flags override them. Parsed once in cmd/.
 */
export interface Endpoints {
  readonly kafkaBrokers: readonly string[];
  readonly natsUrl: string | undefined;
  readonly redisUrl: string | undefined;
  readonly databaseUrl: string | undefined;
  readonly kubeconfig: string | undefined;
  /** TLS and SASL towards Kafka (connection-security.ts); undefined: plain text. */
  readonly kafkaSecurity: KafkaSecurity | undefined;
  readonly natsSecurity: NatsSecurity | undefined;
  readonly redisSecurity: RedisSecurity | undefined;
  readonly postgresSecurity: PostgresSecurity | undefined;
}

export const ENDPOINT_FLAGS = {
  'kafka-brokers': { env: 'KAFKA_BROKERS', help: 'Kafka bootstrap brokers, comma-separated' },
  'nats-url': { env: 'NATS_URL', help: 'NATS server URL' },
  'redis-url': { env: 'REDIS_URL', help: 'Redis URL' },
  'database-url': { env: 'DATABASE_URL', help: 'PostgreSQL connection URL' },
  kubeconfig: { env: 'KUBECONFIG', help: 'kubeconfig path (default: in-cluster config)' },
  ...SECURITY_FLAGS,
} as const;

const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port');
const url = (schemes: string[]) =>
  z
    .string()
    .url()
    .refine((u) => schemes.some((s) => u.startsWith(`${s}://`)), `expected a ${schemes.join(' or ')} URL`);

const schema = z.object({
  kafkaBrokers: z.array(hostPort),
  natsUrl: url(['nats', 'tls', 'ws', 'wss']).optional(),
  redisUrl: url(['redis', 'rediss']).optional(),
  databaseUrl: url(['postgres', 'postgresql']).optional(),
  kubeconfig: z.string().min(1).optional(),
});

/** Endpoints from flags (`--kafka-brokers` ...) over the environment; ConfigError on a malformed value. */
export function parseEndpoints(
  flags: Readonly<Record<string, string | undefined>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Endpoints {
  const pick = (flag: keyof typeof ENDPOINT_FLAGS): string | undefined => {
    const v = flags[flag] ?? env[ENDPOINT_FLAGS[flag].env];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const brokers = pick('kafka-brokers');
  const parsed = schema.safeParse({
    kafkaBrokers: brokers ? brokers.split(',').map((b) => b.trim()) : [],
    natsUrl: pick('nats-url'),
    redisUrl: pick('redis-url'),
    databaseUrl: pick('database-url'),
    kubeconfig: pick('kubeconfig'),
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid endpoint: ${issues}`);
  }
  const { issues, ...security } = parseSecurity(pick, parsed.data.natsUrl, parsed.data.redisUrl);
  if (issues.length > 0) throw new ConfigError(`invalid connection security: ${issues.join('; ')}`);
  return Object.freeze({
    ...parsed.data,
    kafkaBrokers: Object.freeze([...parsed.data.kafkaBrokers]),
    ...security,
  }) as Endpoints;
}

const MISSING: Readonly<Record<'kafkaBrokers' | 'databaseUrl' | 'natsUrl' | 'redisUrl', string>> = {
  kafkaBrokers: 'no Kafka brokers: set KAFKA_BROKERS or --kafka-brokers',
  databaseUrl: 'no database: set DATABASE_URL or --database-url',
  natsUrl: 'no NATS server: set NATS_URL or --nats-url',
  redisUrl: 'no Redis server: set REDIS_URL or --redis-url',
};

type Required = keyof typeof MISSING;

/** ConfigError naming the first of `needed` that is not set, in the order given. */
export function requireEndpoints<K extends Required>(
  endpoints: Endpoints,
  needed: readonly K[],
): asserts endpoints is Endpoints & { readonly [P in K]-?: NonNullable<Endpoints[P]> } {
  for (const name of needed) {
    const v = endpoints[name];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) throw new ConfigError(MISSING[name]);
  }
}

/**
 * A command's flags: the endpoint flags and `optionNames`, every one a string (its option schema
 * parses them); an unknown flag is an error.
 */
export function parseCommandFlags(
  argv: readonly string[],
  optionNames: readonly string[],
): Record<string, string | undefined> {
  const { values } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      [...Object.keys(ENDPOINT_FLAGS), ...optionNames].map((n) => [n, { type: 'string' as const }]),
    ),
    strict: true,
  });
  return values as Record<string, string | undefined>;
}

/** The `--help` lines for the endpoint flags. */
export function endpointHelp(): string {
  return Object.entries(ENDPOINT_FLAGS)
    .map(([flag, { env, help }]) => `  --${flag.padEnd(26)} ${help} (env ${env})`)
    .join('\n');
}
