import { hostname } from 'node:os';
import { z } from 'zod';
import { DEFAULT_TOPICS } from '../ingest/topics.js';
import { ConfigError } from '../runtime/errors.js';
import type { KafkaSecurity } from './connection-security.js';
import { KAFKA_FLAGS, parseEndpoints } from './endpoints.js';
import { intFlag, PROCESS_FLAGS, textFlag } from './flags.js';
import { type FlagSpec, flagHelp, parseFlagValues, readArgs } from './parse-flags.js';
import { readSecretFile } from './secret-file.js';

const MIB = 1024 * 1024;

/** The `tickmesh archive` flags: one schema, parsed once in cmd/, frozen. */
const ARCHIVE_TARGET_FLAGS = {
  dir: { schema: textFlag, arg: 'DIR', help: 'archive into this local directory' },
  s3Bucket: { schema: textFlag, arg: 'NAME', help: 'archive into this S3 bucket instead' },
  s3Prefix: {
    schema: z
      .string()
      .default('')
      .transform((p) => (p === '' || p.endsWith('/') ? p : `${p}/`)),
    arg: 'PREFIX',
    help: "key prefix of the archive's root in the bucket",
  },
  s3Endpoint: {
    schema: z.url().optional(),
    arg: 'URL',
    env: 'S3_ENDPOINT',
    help: 'an S3-compatible server (MinIO, Ceph, moto), path-style',
    defaultHelp: 'AWS',
  },
  s3Region: { schema: z.string().min(1).default('us-east-1'), arg: 'REGION', env: 'AWS_REGION', help: 'S3 region' },
  s3AccessKeyFile: {
    schema: textFlag,
    arg: 'PATH',
    help: 'file holding the access key id',
    defaultHelp: "the SDK's chain: AWS_ACCESS_KEY_ID, profile, instance role",
  },
  s3SecretKeyFile: { schema: textFlag, arg: 'PATH', help: 'file holding the secret access key' },
  s3PartMib: {
    schema: intFlag(5, 5_120).default(64),
    arg: 'N',
    help: 'a file larger than N MiB goes up as a multipart upload in parts of N MiB (one part in memory at a time)',
  },
} as const satisfies FlagSpec;

const ARCHIVE_FLAGS_OWN = {
  tradesTopic: { schema: z.string().min(1).default(DEFAULT_TOPICS.trades), arg: 'NAME', help: 'trades topic' },
  rollSeconds: {
    schema: intFlag(1, 86_400).default(3_600),
    arg: 'S',
    help: 'roll period of the log time: a window of each partition closes when a record of the next period comes',
  },
  graceSeconds: {
    schema: intFlag(0, 3_600).default(30),
    arg: 'S',
    help: "a caught-up partition's window closes this long after its period ends, when nothing more comes",
  },
  maxWindowTrades: {
    schema: intFlag(1).default(500_000),
    arg: 'N',
    help: 'a window closes once it holds N trades (bounds memory: about 300 bytes a trade)',
  },
  clientId: { schema: textFlag, arg: 'ID', help: 'Kafka client id', defaultHelp: 'tickmesh-archive-<host>' },
  ...PROCESS_FLAGS,
} as const satisfies FlagSpec;

const ARCHIVE_FLAGS = { ...ARCHIVE_TARGET_FLAGS, ...KAFKA_FLAGS, ...ARCHIVE_FLAGS_OWN } as const satisfies FlagSpec;

export const ARCHIVE_HELP = `tickmesh archive: the trades topic into Hive-partitioned Parquet, exactly once

usage: tickmesh archive (--dir DIR | --s3-bucket NAME) [options]

Files: <root>/exchange=E/symbol=S/date=YYYY-MM-DD/hour=HH/part-<partition>-<from>-<to>.parquet,
date and hour of each trade's event time (UTC); <from>-<to> is the Kafka offset range of the
window the file belongs to. The file names are the archive's only progress: a restart lists
them, re-reads the last window of each partition and writes only its missing files. Run one
archiver per archive.

target:
${flagHelp(ARCHIVE_TARGET_FLAGS)}

Kafka and process (flags override the environment):
${flagHelp({ ...KAFKA_FLAGS, ...ARCHIVE_FLAGS_OWN })}
`;

export type ArchiveTarget =
  | { readonly kind: 'dir'; readonly dir: string }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      readonly prefix: string;
      readonly endpoint: string | undefined;
      readonly region: string;
      readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
      readonly partBytes: number;
    };

export interface ArchiveConfig {
  readonly target: ArchiveTarget;
  readonly kafkaBrokers: readonly string[];
  readonly kafkaSecurity: KafkaSecurity | undefined;
  readonly tradesTopic: string;
  readonly rollMs: number;
  readonly graceMs: number;
  readonly maxWindowTrades: number;
  readonly clientId: string;
  readonly metricsPort: number;
  readonly logLevel: string;
}

export function parseArchiveConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ArchiveConfig {
  const flags = readArgs(ARCHIVE_FLAGS, argv);
  const v = parseFlagValues(ARCHIVE_FLAGS, flags, env);
  const endpoints = parseEndpoints(flags, env);
  if (endpoints.kafkaBrokers.length === 0) throw new ConfigError('no Kafka brokers (--kafka-brokers or KAFKA_BROKERS)');
  if ((v.dir === undefined) === (v.s3Bucket === undefined)) {
    throw new ConfigError('give one of --dir and --s3-bucket');
  }
  if ((v.s3AccessKeyFile === undefined) !== (v.s3SecretKeyFile === undefined)) {
    throw new ConfigError('give both --s3-access-key-file and --s3-secret-key-file, or neither');
  }
  const target: ArchiveTarget =
    v.dir !== undefined
      ? { kind: 'dir', dir: v.dir }
      : {
          kind: 's3',
          bucket: v.s3Bucket as string,
          prefix: v.s3Prefix,
          endpoint: v.s3Endpoint,
          region: v.s3Region,
          credentials:
            v.s3AccessKeyFile === undefined
              ? undefined
              : {
                  accessKeyId: readSecretFile(v.s3AccessKeyFile, '--s3-access-key-file'),
                  secretAccessKey: readSecretFile(v.s3SecretKeyFile as string, '--s3-secret-key-file'),
                },
          partBytes: v.s3PartMib * MIB,
        };
  return Object.freeze({
    target,
    kafkaBrokers: endpoints.kafkaBrokers,
    kafkaSecurity: endpoints.kafkaSecurity,
    tradesTopic: v.tradesTopic,
    rollMs: v.rollSeconds * 1000,
    graceMs: v.graceSeconds * 1000,
    maxWindowTrades: v.maxWindowTrades,
    clientId: v.clientId ?? `tickmesh-archive-${hostname()}`,
    metricsPort: v.metricsPort,
    logLevel: v.logLevel,
  });
}
