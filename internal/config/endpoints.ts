import { z } from 'zod';
import { ConfigError } from '../runtime/errors.js';
import {
  KAFKA_SECURITY_FLAGS,
  type KafkaSecurity,
  type NatsSecurity,
  type PostgresSecurity,
  parseSecurity,
  type RedisSecurity,
  SECURITY_FLAGS,
} from './connection-security.js';
import { textFlag } from './flags.js';
import { type FlagSpec, flagHelp, type RawFlags } from './parse-flags.js';

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

/** The endpoint flags every server command takes; parseEndpoints checks their values. */
export const ENDPOINT_FLAGS = {
  'kafka-brokers': {
    schema: textFlag,
    arg: 'LIST',
    env: 'KAFKA_BROKERS',
    help: 'Kafka bootstrap brokers, comma-separated',
  },
  'nats-url': { schema: textFlag, arg: 'URL', env: 'NATS_URL', help: 'NATS server URL' },
  'redis-url': { schema: textFlag, arg: 'URL', env: 'REDIS_URL', help: 'Redis URL' },
  'database-url': { schema: textFlag, arg: 'URL', env: 'DATABASE_URL', help: 'PostgreSQL connection URL' },
  kubeconfig: {
    schema: textFlag,
    arg: 'PATH',
    env: 'KUBECONFIG',
    help: 'kubeconfig path',
    defaultHelp: 'in-cluster config',
  },
  ...SECURITY_FLAGS,
} as const satisfies FlagSpec;

/** The flags of the commands that talk to Kafka alone (ingest, replay). */
export const KAFKA_FLAGS: FlagSpec = { 'kafka-brokers': ENDPOINT_FLAGS['kafka-brokers'], ...KAFKA_SECURITY_FLAGS };

/** The --help lines of the endpoint flags. */
export const ENDPOINT_HELP = flagHelp(ENDPOINT_FLAGS);

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
  flags: RawFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Endpoints {
  const pick = (flag: keyof typeof ENDPOINT_FLAGS): string | undefined => {
    const given = flags[flag];
    const v = typeof given === 'string' ? given : env[ENDPOINT_FLAGS[flag].env];
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
