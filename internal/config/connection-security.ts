import { z } from 'zod';
import { ConfigError } from '../runtime/errors.js';
import { textFlag as text } from './flags.js';
import type { FlagSpec } from './parse-flags.js';

/**
 * How to reach a secured server: TLS files and credentials, every secret named by a file path
 * (a mounted Secret), never the secret itself, so that no password shows in a command line or a
 * pod spec. The adapters read the files when they connect (internal/config/secret-file.ts).
 */

/** TLS towards a server: verified against `caFile` (default: the system's CAs). */
export interface TlsFiles {
  /** PEM CA bundle the server's certificate must chain to. */
  readonly caFile?: string;
  /** PEM client certificate and key, for servers that require mutual TLS. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

export type KafkaSecurityProtocol = 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';
export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/**
 * SASL OAUTHBEARER: a bearer token (a JWT) from a file, re-read for every authentication (a
 * Kubernetes-projected token, rotated by the kubelet), or from an OAuth 2 token endpoint with
 * the client-credentials grant, cached and fetched anew before it expires.
 */
export type KafkaOAuth =
  | { readonly tokenFile: string }
  | {
      readonly tokenEndpoint: string;
      readonly clientId: string;
      readonly clientSecretFile: string;
      readonly scope?: string;
    };

export interface KafkaSecurity {
  readonly protocol: KafkaSecurityProtocol;
  /** Set when the protocol is ssl or sasl_ssl. */
  readonly tls?: TlsFiles;
  /** User and password mechanisms; set when the protocol is sasl_* and the mechanism is not oauthbearer. */
  readonly sasl?: { readonly mechanism: KafkaSaslMechanism; readonly username: string; readonly passwordFile: string };
  /** OAUTHBEARER; set when the protocol is sasl_* and the mechanism is oauthbearer. */
  readonly oauth?: KafkaOAuth;
}

export interface NatsSecurity {
  /** TLS required (also implied by a `tls://` URL): the client never falls back to plain text. */
  readonly tls?: TlsFiles;
  /** A `.creds` file (user JWT and NKey seed) of a NATS account. */
  readonly credsFile?: string;
  /** A file holding an NKey user seed (`SU...`). */
  readonly nkeySeedFile?: string;
  /** User and password; the user and password in the URL are used too. */
  readonly user?: string;
  readonly passwordFile?: string;
  readonly tokenFile?: string;
}

export interface RedisSecurity {
  /** TLS (also implied by a `rediss://` URL), verified against this CA. */
  readonly tls?: TlsFiles;
  /** ACL user (overrides the URL's). */
  readonly username?: string;
  readonly passwordFile?: string;
}

export interface PostgresSecurity {
  /** TLS with full verification (host name and chain) against this CA. */
  readonly tls?: TlsFiles;
  readonly passwordFile?: string;
}

/** The flags of connection security; each with the environment variable it overrides. */
export const SECURITY_FLAGS = {
  'kafka-security-protocol': {
    schema: text,
    arg: 'PROTOCOL',
    env: 'KAFKA_SECURITY_PROTOCOL',
    help: 'plaintext (default), ssl, sasl_plaintext or sasl_ssl',
  },
  'kafka-sasl-mechanism': {
    schema: text,
    arg: 'MECHANISM',
    env: 'KAFKA_SASL_MECHANISM',
    help: 'plain, scram-sha-256, scram-sha-512 or oauthbearer',
  },
  'kafka-oauth-token-file': {
    schema: text,
    arg: 'FILE',
    env: 'KAFKA_OAUTH_TOKEN_FILE',
    help: 'oauthbearer: file holding the token (JWT), re-read at every authentication',
  },
  'kafka-oauth-token-endpoint': {
    schema: text,
    arg: 'URL',
    env: 'KAFKA_OAUTH_TOKEN_ENDPOINT',
    help: 'oauthbearer: OAuth 2 token endpoint (client-credentials grant)',
  },
  'kafka-oauth-client-id': {
    schema: text,
    arg: 'ID',
    env: 'KAFKA_OAUTH_CLIENT_ID',
    help: 'oauthbearer: client id at the token endpoint',
  },
  'kafka-oauth-client-secret-file': {
    schema: text,
    arg: 'FILE',
    env: 'KAFKA_OAUTH_CLIENT_SECRET_FILE',
    help: 'oauthbearer: file holding the client secret',
  },
  'kafka-oauth-scope': { schema: text, arg: 'SCOPE', env: 'KAFKA_OAUTH_SCOPE', help: 'oauthbearer: scope to ask for' },
  'kafka-sasl-username': { schema: text, arg: 'USER', env: 'KAFKA_SASL_USERNAME', help: 'Kafka SASL user' },
  'kafka-sasl-password-file': {
    schema: text,
    arg: 'FILE',
    env: 'KAFKA_SASL_PASSWORD_FILE',
    help: 'file holding the Kafka SASL password',
  },
  'kafka-tls-ca-file': {
    schema: text,
    arg: 'FILE',
    env: 'KAFKA_TLS_CA_FILE',
    help: 'PEM CA bundle for the Kafka brokers',
  },
  'kafka-tls-cert-file': {
    schema: text,
    arg: 'FILE',
    env: 'KAFKA_TLS_CERT_FILE',
    help: 'PEM client certificate (Kafka mutual TLS)',
  },
  'kafka-tls-key-file': {
    schema: text,
    arg: 'FILE',
    env: 'KAFKA_TLS_KEY_FILE',
    help: 'PEM client key (Kafka mutual TLS)',
  },
  'nats-tls': {
    schema: text,
    arg: 'true|false',
    env: 'NATS_TLS',
    help: 'true: require TLS to NATS (implied by a tls:// URL)',
  },
  'nats-tls-ca-file': {
    schema: text,
    arg: 'FILE',
    env: 'NATS_TLS_CA_FILE',
    help: 'PEM CA bundle for the NATS servers',
  },
  'nats-tls-cert-file': {
    schema: text,
    arg: 'FILE',
    env: 'NATS_TLS_CERT_FILE',
    help: 'PEM client certificate (NATS mutual TLS)',
  },
  'nats-tls-key-file': {
    schema: text,
    arg: 'FILE',
    env: 'NATS_TLS_KEY_FILE',
    help: 'PEM client key (NATS mutual TLS)',
  },
  'nats-creds-file': {
    schema: text,
    arg: 'FILE',
    env: 'NATS_CREDS_FILE',
    help: 'NATS .creds file (account user JWT and seed)',
  },
  'nats-nkey-seed-file': {
    schema: text,
    arg: 'FILE',
    env: 'NATS_NKEY_SEED_FILE',
    help: 'file holding a NATS NKey user seed',
  },
  'nats-user': { schema: text, arg: 'USER', env: 'NATS_USER', help: 'NATS user (or in the URL)' },
  'nats-password-file': {
    schema: text,
    arg: 'FILE',
    env: 'NATS_PASSWORD_FILE',
    help: 'file holding the NATS password',
  },
  'nats-token-file': { schema: text, arg: 'FILE', env: 'NATS_TOKEN_FILE', help: 'file holding a NATS token' },
  'redis-tls-ca-file': {
    schema: text,
    arg: 'FILE',
    env: 'REDIS_TLS_CA_FILE',
    help: 'PEM CA bundle for Redis (TLS; implied by rediss://)',
  },
  'redis-tls-cert-file': {
    schema: text,
    arg: 'FILE',
    env: 'REDIS_TLS_CERT_FILE',
    help: 'PEM client certificate (Redis mutual TLS)',
  },
  'redis-tls-key-file': {
    schema: text,
    arg: 'FILE',
    env: 'REDIS_TLS_KEY_FILE',
    help: 'PEM client key (Redis mutual TLS)',
  },
  'redis-username': { schema: text, arg: 'USER', env: 'REDIS_USERNAME', help: 'Redis ACL user (or in the URL)' },
  'redis-password-file': {
    schema: text,
    arg: 'FILE',
    env: 'REDIS_PASSWORD_FILE',
    help: 'file holding the Redis password',
  },
  'database-tls-ca-file': {
    schema: text,
    arg: 'FILE',
    env: 'DATABASE_TLS_CA_FILE',
    help: 'PEM CA bundle: TLS to PostgreSQL, verify-full (or sslmode/sslrootcert in the URL)',
  },
  'database-password-file': {
    schema: text,
    arg: 'FILE',
    env: 'DATABASE_PASSWORD_FILE',
    help: 'file holding the PostgreSQL password',
  },
} as const satisfies FlagSpec;

export type SecurityFlag = keyof typeof SECURITY_FLAGS;

const file = z.string().min(1);
const tlsFiles = (what: string) =>
  z
    .object({ caFile: file.optional(), certFile: file.optional(), keyFile: file.optional() })
    .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
      message: `${what}: a client certificate and its key go together`,
    });

const kafkaSchema = z
  .object({
    protocol: z.enum(['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl']),
    tls: tlsFiles('kafka tls'),
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']).optional(),
    username: z.string().min(1).optional(),
    passwordFile: file.optional(),
    oauth: z.object({
      tokenFile: file.optional(),
      tokenEndpoint: z.string().url().optional(),
      clientId: z.string().min(1).optional(),
      clientSecretFile: file.optional(),
      scope: z.string().min(1).optional(),
    }),
  })
  .superRefine((k, ctx) => {
    const sasl = k.protocol.startsWith('sasl_');
    const o = k.oauth;
    const oauthSet = Object.values(o).some((v) => v !== undefined);
    if (k.mechanism === 'oauthbearer') {
      const client = o.tokenEndpoint !== undefined || o.clientId !== undefined || o.clientSecretFile !== undefined;
      if (o.tokenFile !== undefined && client) {
        ctx.addIssue({ code: 'custom', message: 'oauthbearer: a token file or a token endpoint, not both' });
      } else if (o.tokenFile === undefined && !(o.tokenEndpoint && o.clientId && o.clientSecretFile)) {
        ctx.addIssue({
          code: 'custom',
          message:
            'oauthbearer needs KAFKA_OAUTH_TOKEN_FILE, or KAFKA_OAUTH_TOKEN_ENDPOINT with KAFKA_OAUTH_CLIENT_ID and KAFKA_OAUTH_CLIENT_SECRET_FILE',
        });
      }
      if (k.username || k.passwordFile) {
        ctx.addIssue({ code: 'custom', message: 'oauthbearer takes no SASL user or password file' });
      }
      if (!sasl) {
        ctx.addIssue({
          code: 'custom',
          message: `SASL settings need KAFKA_SECURITY_PROTOCOL sasl_ssl or sasl_plaintext`,
        });
      }
      return;
    }
    if (oauthSet) {
      ctx.addIssue({ code: 'custom', message: 'KAFKA_OAUTH_* settings need KAFKA_SASL_MECHANISM oauthbearer' });
    }
    if (sasl && (!k.mechanism || !k.username || !k.passwordFile)) {
      ctx.addIssue({
        code: 'custom',
        message: `${k.protocol} needs a SASL mechanism, user and password file (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE)`,
      });
    }
    if (!sasl && (k.mechanism || k.username || k.passwordFile)) {
      ctx.addIssue({
        code: 'custom',
        message: `SASL settings need KAFKA_SECURITY_PROTOCOL sasl_ssl or sasl_plaintext`,
      });
    }
    const tls = k.protocol === 'ssl' || k.protocol === 'sasl_ssl';
    if (!tls && (k.tls.caFile || k.tls.certFile)) {
      ctx.addIssue({ code: 'custom', message: `TLS files need KAFKA_SECURITY_PROTOCOL ssl or sasl_ssl` });
    }
  });

function oauthFrom(o: {
  tokenFile?: string | undefined;
  tokenEndpoint?: string | undefined;
  clientId?: string | undefined;
  clientSecretFile?: string | undefined;
  scope?: string | undefined;
}): KafkaOAuth {
  if (o.tokenFile !== undefined) return Object.freeze({ tokenFile: o.tokenFile });
  return Object.freeze({
    tokenEndpoint: o.tokenEndpoint ?? '',
    clientId: o.clientId ?? '',
    clientSecretFile: o.clientSecretFile ?? '',
    ...(o.scope !== undefined ? { scope: o.scope } : {}),
  });
}

function definedOnly<T extends object>(o: T): T | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return Object.keys(out).length === 0 ? undefined : (out as T);
}

/** Parsed security settings; `issues` lists what does not parse (the caller throws ConfigError). */
export function parseSecurity(
  pick: (flag: SecurityFlag) => string | undefined,
  natsUrl: string | undefined,
  redisUrl: string | undefined,
): {
  kafkaSecurity: KafkaSecurity | undefined;
  natsSecurity: NatsSecurity | undefined;
  redisSecurity: RedisSecurity | undefined;
  postgresSecurity: PostgresSecurity | undefined;
  issues: string[];
} {
  const issues: string[] = [];
  const tls = (prefix: 'kafka' | 'nats' | 'redis' | 'database'): TlsFiles | undefined =>
    definedOnly({
      caFile: pick(`${prefix}-tls-ca-file` as SecurityFlag),
      certFile: prefix === 'database' ? undefined : pick(`${prefix}-tls-cert-file` as SecurityFlag),
      keyFile: prefix === 'database' ? undefined : pick(`${prefix}-tls-key-file` as SecurityFlag),
    });

  let kafkaSecurity: KafkaSecurity | undefined;
  const kafka = kafkaSchema.safeParse({
    protocol: pick('kafka-security-protocol')?.toLowerCase() ?? 'plaintext',
    tls: tls('kafka') ?? {},
    mechanism: pick('kafka-sasl-mechanism')?.toLowerCase(),
    username: pick('kafka-sasl-username'),
    passwordFile: pick('kafka-sasl-password-file'),
    oauth: {
      tokenFile: pick('kafka-oauth-token-file'),
      tokenEndpoint: pick('kafka-oauth-token-endpoint'),
      clientId: pick('kafka-oauth-client-id'),
      clientSecretFile: pick('kafka-oauth-client-secret-file'),
      scope: pick('kafka-oauth-scope'),
    },
  });
  if (!kafka.success) {
    issues.push(...kafka.error.issues.map((i) => `kafka security: ${i.message}`));
  } else if (kafka.data.protocol !== 'plaintext') {
    const k = kafka.data;
    kafkaSecurity = Object.freeze({
      protocol: k.protocol,
      ...(k.protocol === 'ssl' || k.protocol === 'sasl_ssl' ? { tls: Object.freeze({ ...k.tls }) } : {}),
      ...(k.mechanism && k.mechanism !== 'oauthbearer' && k.username && k.passwordFile
        ? { sasl: Object.freeze({ mechanism: k.mechanism, username: k.username, passwordFile: k.passwordFile }) }
        : {}),
      ...(k.mechanism === 'oauthbearer' ? { oauth: oauthFrom(k.oauth) } : {}),
    });
  }

  const natsTlsFlag = pick('nats-tls');
  if (natsTlsFlag !== undefined && !['true', 'false', '1', '0'].includes(natsTlsFlag)) {
    issues.push(`nats tls: expected true or false, got '${natsTlsFlag}'`);
  }
  const natsTlsWanted =
    natsTlsFlag === 'true' || natsTlsFlag === '1' || (natsUrl?.startsWith('tls://') ?? false) || !!tls('nats');
  const natsSecurity = definedOnly<NatsSecurity>({
    tls: natsTlsWanted ? (tls('nats') ?? {}) : undefined,
    credsFile: pick('nats-creds-file'),
    nkeySeedFile: pick('nats-nkey-seed-file'),
    user: pick('nats-user'),
    passwordFile: pick('nats-password-file'),
    tokenFile: pick('nats-token-file'),
  });
  const natsAuths = ['credsFile', 'nkeySeedFile', 'tokenFile', 'passwordFile'].filter(
    (k) => natsSecurity?.[k as keyof NatsSecurity] !== undefined,
  );
  if (natsAuths.length > 1) issues.push(`nats: choose one of creds, nkey seed, token or password files`);
  if (natsSecurity?.passwordFile && !natsSecurity.user && !natsUrl?.includes('@')) {
    issues.push('nats: a password file needs NATS_USER (or a user in the URL)');
  }
  if (natsSecurity?.tls?.certFile !== undefined && natsSecurity.tls.keyFile === undefined) {
    issues.push('nats tls: a client certificate and its key go together');
  }

  const redisTls = tls('redis');
  const redisSecurity = definedOnly<RedisSecurity>({
    tls: redisTls ?? (redisUrl?.startsWith('rediss://') ? {} : undefined),
    username: pick('redis-username'),
    passwordFile: pick('redis-password-file'),
  });
  const postgresSecurity = definedOnly<PostgresSecurity>({
    tls: tls('database'),
    passwordFile: pick('database-password-file'),
  });
  return { kafkaSecurity, natsSecurity, redisSecurity, postgresSecurity, issues };
}

/** The Kafka security flags alone, for the commands that talk to no other server (ingest, replay). */
export const KAFKA_SECURITY_FLAGS: FlagSpec = Object.fromEntries(
  Object.entries(SECURITY_FLAGS).filter(([name]) => name.startsWith('kafka-')),
);

/** The PostgreSQL security flags alone, for the commands that talk to no other server (export, models). */
export const DATABASE_SECURITY_FLAGS: FlagSpec = Object.fromEntries(
  Object.entries(SECURITY_FLAGS).filter(([name]) => name.startsWith('database-')),
);

/**
 * NATS security from the environment alone (NATS_TLS, NATS_CREDS_FILE, ...), for commands that
 * take their NATS URL from a flag of their own (the operator's --nats). ConfigError when invalid.
 */
export function natsSecurityFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  natsUrl: string | undefined,
): NatsSecurity | undefined {
  const pick = (flag: SecurityFlag): string | undefined => {
    const v = flag.startsWith('nats-') ? env[SECURITY_FLAGS[flag].env]?.trim() : undefined;
    return v === '' ? undefined : v;
  };
  const { natsSecurity, issues } = parseSecurity(pick, natsUrl, undefined);
  if (issues.length > 0) throw new ConfigError(`invalid connection security: ${issues.join('; ')}`);
  return natsSecurity;
}
