import { describe, expect, it } from 'vitest';
import { ConfigError } from '../runtime/errors.js';
import { ENDPOINT_FLAGS, ENDPOINT_HELP, parseEndpoints, requireEndpoints } from './endpoints.js';
import { readArgs } from './parse-flags.js';

describe('parseEndpoints', () => {
  it('reads the environment and lets flags override it', () => {
    const e = parseEndpoints(
      { 'nats-url': 'nats://10.0.0.1:4222' },
      { KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093', NATS_URL: 'nats://127.0.0.1:4222', REDIS_URL: '' },
    );
    expect(e.kafkaBrokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(e.natsUrl).toBe('nats://10.0.0.1:4222');
    expect(e.redisUrl).toBeUndefined();
  });

  it('refuses malformed endpoints with the field named', () => {
    expect(() => parseEndpoints({}, { KAFKA_BROKERS: 'localhost' })).toThrow(ConfigError);
    expect(() => parseEndpoints({}, { DATABASE_URL: 'mysql://x/y' })).toThrow(/databaseUrl/);
  });
});

describe('requireEndpoints and the endpoint flags', () => {
  it('names the first missing endpoint a command needs', () => {
    const e = parseEndpoints({}, { DATABASE_URL: 'postgres://u@h/db' });
    expect(() => requireEndpoints(e, ['databaseUrl'])).not.toThrow();
    expect(() => requireEndpoints(e, ['kafkaBrokers', 'natsUrl'])).toThrow(
      'no Kafka brokers: set KAFKA_BROKERS or --kafka-brokers',
    );
    expect(() => requireEndpoints(e, ['databaseUrl', 'natsUrl', 'redisUrl'])).toThrow(
      'no NATS server: set NATS_URL or --nats-url',
    );
  });

  it("reads the endpoint flags beside a command's own, refuses others, and lists them in --help", () => {
    const spec = {
      ...ENDPOINT_FLAGS,
      topic: { schema: ENDPOINT_FLAGS['nats-url'].schema, arg: 'NAME', help: 'topic' },
    };
    const flags = readArgs(spec, ['--nats-url', 'nats://h:4222', '--topic', 't']);
    expect(flags).toMatchObject({ 'nats-url': 'nats://h:4222', topic: 't' });
    expect(parseEndpoints(flags, { NATS_URL: 'nats://other:4222' }).natsUrl).toBe('nats://h:4222');
    expect(() => readArgs(spec, ['--nope', 'x'])).toThrow(ConfigError);
    expect(ENDPOINT_HELP).toContain(
      '  --kafka-brokers LIST          Kafka bootstrap brokers, comma-separated (env KAFKA_BROKERS)',
    );
    expect(ENDPOINT_HELP).toContain('--database-password-file FILE');
  });

  it('takes secrets as file paths from *_FILE variables or --*-file flags, the flag first, never reading them', () => {
    const env = { DATABASE_PASSWORD_FILE: '/run/secrets/db' };
    const fromEnv = parseEndpoints(readArgs(ENDPOINT_FLAGS, []), env);
    expect(fromEnv.postgresSecurity?.passwordFile).toBe('/run/secrets/db');
    const fromFlag = parseEndpoints(readArgs(ENDPOINT_FLAGS, ['--database-password-file', '/mnt/db']), env);
    expect(fromFlag.postgresSecurity?.passwordFile).toBe('/mnt/db');
    // A SASL password file without the SASL protocol is refused by name, not by opening the file.
    expect(() => parseEndpoints({}, { KAFKA_SASL_PASSWORD_FILE: '/nonexistent/kafka' })).toThrow(
      /KAFKA_SECURITY_PROTOCOL sasl_ssl or sasl_plaintext/,
    );
  });
});
