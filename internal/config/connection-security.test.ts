import { describe, expect, it } from 'vitest';
import { ConfigError } from '../runtime/errors.js';
import { natsSecurityFromEnv } from './connection-security.js';
import { parseEndpoints } from './endpoints.js';

describe('connection security settings', () => {
  it('plain text by default: no security for any server', () => {
    const e = parseEndpoints({}, { KAFKA_BROKERS: 'k:9092', NATS_URL: 'nats://n:4222' });
    expect(e.kafkaSecurity).toBeUndefined();
    expect(e.natsSecurity).toBeUndefined();
    expect(e.redisSecurity).toBeUndefined();
    expect(e.postgresSecurity).toBeUndefined();
  });

  it('Kafka SASL_SSL from the environment, flags over it, the password only as a file path', () => {
    const e = parseEndpoints(
      { 'kafka-sasl-username': 'bob' },
      {
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'alice',
        KAFKA_SASL_PASSWORD_FILE: '/secrets/kafka/password',
        KAFKA_TLS_CA_FILE: '/secrets/ca.pem',
      },
    );
    expect(e.kafkaSecurity).toEqual({
      protocol: 'sasl_ssl',
      tls: { caFile: '/secrets/ca.pem' },
      sasl: { mechanism: 'scram-sha-512', username: 'bob', passwordFile: '/secrets/kafka/password' },
    });
  });

  it('Kafka OAUTHBEARER: a token file, or a token endpoint with client id and secret file', () => {
    const base = { KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_MECHANISM: 'OAUTHBEARER' };
    expect(parseEndpoints({}, { ...base, KAFKA_OAUTH_TOKEN_FILE: '/var/run/token' }).kafkaSecurity).toEqual({
      protocol: 'sasl_ssl',
      tls: {},
      oauth: { tokenFile: '/var/run/token' },
    });
    const client = {
      ...base,
      KAFKA_OAUTH_TOKEN_ENDPOINT: 'https://idp.example/oauth2/token',
      KAFKA_OAUTH_CLIENT_ID: 'tickmesh',
      KAFKA_OAUTH_CLIENT_SECRET_FILE: '/secrets/client-secret',
      KAFKA_OAUTH_SCOPE: 'kafka',
    };
    expect(parseEndpoints({}, client).kafkaSecurity?.oauth).toEqual({
      tokenEndpoint: 'https://idp.example/oauth2/token',
      clientId: 'tickmesh',
      clientSecretFile: '/secrets/client-secret',
      scope: 'kafka',
    });
    expect(() => parseEndpoints({}, base)).toThrow(/oauthbearer needs KAFKA_OAUTH_TOKEN_FILE/);
    expect(() => parseEndpoints({}, { ...client, KAFKA_OAUTH_TOKEN_FILE: '/t' })).toThrow(/not both/);
    expect(() => parseEndpoints({}, { ...client, KAFKA_SASL_USERNAME: 'u' })).toThrow(/no SASL user/);
    expect(() => parseEndpoints({}, { KAFKA_OAUTH_TOKEN_FILE: '/t' })).toThrow(/need KAFKA_SASL_MECHANISM oauthbearer/);
  });

  it('incomplete or contradictory Kafka settings are a ConfigError', () => {
    expect(() => parseEndpoints({}, { KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_USERNAME: 'a' })).toThrow(
      ConfigError,
    );
    expect(() => parseEndpoints({}, { KAFKA_SASL_USERNAME: 'a' })).toThrow(/SASL settings need/);
    expect(() => parseEndpoints({}, { KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_TLS_CERT_FILE: '/c.pem' })).toThrow(
      /certificate and its key/,
    );
    expect(() => parseEndpoints({}, { KAFKA_SECURITY_PROTOCOL: 'tls' })).toThrow(ConfigError);
  });

  it('a tls:// NATS URL or NATS_TLS requires TLS; one credential kind at a time', () => {
    expect(parseEndpoints({}, { NATS_URL: 'tls://n:4222' }).natsSecurity).toEqual({ tls: {} });
    expect(parseEndpoints({ 'nats-tls': 'true' }, { NATS_URL: 'nats://n:4222' }).natsSecurity).toEqual({ tls: {} });
    expect(() =>
      parseEndpoints({}, { NATS_URL: 'nats://n:4222', NATS_CREDS_FILE: '/a.creds', NATS_TOKEN_FILE: '/t' }),
    ).toThrow(/choose one/);
  });

  it('a rediss:// URL means TLS to Redis', () => {
    expect(parseEndpoints({}, { REDIS_URL: 'rediss://r:6380' }).redisSecurity).toEqual({ tls: {} });
  });

  it('NATS security from the environment alone, for the operator', () => {
    expect(natsSecurityFromEnv({ NATS_CREDS_FILE: '/c/u.creds', KAFKA_SASL_USERNAME: 'x' }, 'tls://n:4222')).toEqual({
      tls: {},
      credsFile: '/c/u.creds',
    });
    expect(natsSecurityFromEnv({}, 'nats://n:4222')).toBeUndefined();
  });
});
