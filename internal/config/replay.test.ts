import { describe, expect, it } from 'vitest';
import { ConfigError } from '../runtime/errors.js';
import { parseReplayConfig } from './replay.js';

const env = { KAFKA_BROKERS: '127.0.0.1:9092' };
const BASE = ['--input', 'trades.csv', '--format', 'tardis'];

describe('replay config', () => {
  it('takes the defaults, the topics from the environment, and flags over both', () => {
    const c = parseReplayConfig(BASE, { ...env, TICKMESH_GAPS_TOPIC: 'gaps.x', LOG_LEVEL: 'debug' });
    expect(c).toMatchObject({
      input: 'trades.csv',
      format: 'tardis',
      speed: 'max',
      compression: 'zstd',
      quiet: false,
      logLevel: 'debug',
      kafkaBrokers: ['127.0.0.1:9092'],
      topics: { trades: 'tickmesh.trades.v1', rejects: 'tickmesh.trades.rejected.v1', gaps: 'gaps.x' },
    });
    expect(c.clientId).toMatch(/^tickmesh-replay-/);
    expect(c.createTopics).toBeUndefined();
    const d = parseReplayConfig(
      [...BASE, '--speed', '10', '--quiet', '--create-topics', '4', '--gaps-topic', 'g', '--log-level', 'info'],
      { ...env, TICKMESH_GAPS_TOPIC: 'gaps.x', LOG_LEVEL: 'debug' },
    );
    expect(d).toMatchObject({ speed: 10, quiet: true, createTopics: 4, logLevel: 'info' });
    expect(d.topics.gaps).toBe('g');
    expect(parseReplayConfig(BASE, env).logLevel).toBe('warn');
  });

  it.each([
    [['--format', 'tardis'], /--input: required/],
    [['--input', 'x', '--format', 'csv'], /--format: expected one of tardis, /],
    [[...BASE, '--speed', 'fast'], /--speed: expected a positive number or max/],
    [[...BASE, '--create-topics', '0'], /--create-topics/],
    [[...BASE, '--compression', 'lz4'], /--compression: expected zstd, gzip, none/],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => parseReplayConfig(argv, env)).toThrow(ConfigError);
    expect(() => parseReplayConfig(argv, env)).toThrow(message);
  });

  it('refuses to start without brokers', () => {
    expect(() => parseReplayConfig(BASE, {})).toThrow(/no Kafka brokers/);
  });
});
