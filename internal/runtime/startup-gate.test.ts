import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CapturedOutput } from '../observe/testing/captured-output.js';
import { ConfigError, ConnectionSecurityError, UnavailableError } from './errors.js';
import { createStartupGate, describeError } from './startup-gate.js';

function gateWithLog(signal = new AbortController().signal) {
  const out = new CapturedOutput(false);
  const logger = pino({ level: 'info' }, out);
  const gate = createStartupGate({ logger, signal, initialDelayMs: 1, maxDelayMs: 2, refusedDelayMs: 3 });
  const lines = () =>
    out.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { gate, lines };
}

describe('StartupGate', () => {
  it('logs one line per distinct failure, without a stack, and is not ready until opened', async () => {
    const { gate, lines } = gateWithLog();
    const refused = new Error('connect ECONNREFUSED 10.0.0.1:9092');
    let attempts = 0;
    const reasons: (string | undefined)[] = [];
    const value = await gate.until('kafka', async () => {
      attempts += 1;
      reasons.push(gate.reason());
      if (attempts <= 5) throw new UnavailableError('kafka unavailable: admin connect', { cause: refused });
      if (attempts <= 7) throw new ConnectionSecurityError('kafka', 'SASL authentication failed');
      return 42;
    });
    expect(value).toBe(42);
    expect(reasons[0]).toBe('waiting for kafka');
    expect(reasons[1]).toBe('waiting for kafka: kafka unavailable: admin connect: connect ECONNREFUSED 10.0.0.1:9092');
    expect(gate.reason()).toBe('waiting for kafka');
    gate.open();
    expect(gate.reason()).toBeUndefined();

    const logged = lines();
    const warnings = logged.filter((l) => l.msg === 'server not available at start; not ready, retrying');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({
      server: 'kafka',
      error: 'UnavailableError',
      code: 'TM_UNAVAILABLE',
      retriable: true,
      detail: 'kafka unavailable: admin connect: connect ECONNREFUSED 10.0.0.1:9092',
    });
    expect(warnings[1]).toMatchObject({ error: 'ConnectionSecurityError', code: 'TM_CONNECTION_SECURITY' });
    expect(logged.find((l) => l.msg === 'server available')).toMatchObject({ server: 'kafka', failures: 7 });
    expect(JSON.stringify(logged)).not.toContain('stack');
  });

  it('does not wait out a configuration mistake', async () => {
    const { gate } = gateWithLog();
    await expect(
      gate.until('postgres', async () => {
        throw new ConfigError('no such schema option');
      }),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it('resolves undefined once its signal aborts', async () => {
    const stop = new AbortController();
    const { gate } = gateWithLog(stop.signal);
    const waiting = gate.until('nats', async () => {
      throw new UnavailableError('nats unavailable: connect');
    });
    setTimeout(() => stop.abort(), 20);
    await expect(waiting).resolves.toBeUndefined();
  });

  it('describes an error by its messages and its causes', () => {
    const inner = new Error('password authentication failed for user "tickmesh"');
    expect(
      describeError(new ConnectionSecurityError('postgres', 'the server refused the login', { cause: inner })),
    ).toBe('postgres: the server refused the login: password authentication failed for user "tickmesh"');
  });
});
