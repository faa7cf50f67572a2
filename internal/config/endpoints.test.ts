import { describe, expect, it } from 'vitest';
import { ConfigError } from '../runtime/errors.js';
import { parseEndpoints } from './endpoints.js';

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
