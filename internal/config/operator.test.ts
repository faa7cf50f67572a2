import { describe, expect, it } from 'vitest';
import { ConfigError } from '../runtime/errors.js';
import { parseOperatorConfig } from './operator.js';

describe('operator config', () => {
  it('takes the environment, lets flags override it, and freezes the result', () => {
    const env = { TICKMESH_PARTITIONS: '12', POD_NAMESPACE: 'tm', POD_NAME: 'operator-0', NATS_URL: 'nats://n:4222' };
    const config = parseOperatorConfig(['--partitions=24', '--max-moves', '2'], env);
    expect(config).toMatchObject({
      partitions: 24,
      namespace: 'tm',
      identity: 'operator-0',
      natsUrl: 'nats://n:4222',
      maxMovesPerRound: 2,
      leaseDurationSeconds: 15,
      placementBucket: 'tickmesh-placement',
      livenessTimeoutMs: 1_500,
      loadIntervalMs: 10_000,
      loadMinRate: 100,
    });
    expect(parseOperatorConfig(['--partitions=4', '--load-interval=0', '--load-min-rate=2.5'], {})).toMatchObject({
      loadIntervalMs: 0,
      loadMinRate: 2.5,
    });
    expect(
      parseOperatorConfig(['--partitions=4', '--autoscale-max=6', '--nats=nats://n'], {
        TICKMESH_AUTOSCALE_DEPLOYMENT: 'tm-worker',
      }),
    ).toMatchObject({ autoscaleMax: 6, autoscaleMin: 1, autoscaleDeployment: 'tm-worker', autoscaleLag: 10_000 });
    expect(parseOperatorConfig(['--partitions=4', '--liveness-timeout=0'], {}).livenessTimeoutMs).toBe(0);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses a missing partition count, unknown flags and nonsense values', () => {
    expect(() => parseOperatorConfig([], {})).toThrow(ConfigError);
    expect(() => parseOperatorConfig(['--partitions=4', '--bogus=1'], {})).toThrow(ConfigError);
    expect(() => parseOperatorConfig(['--partitions=4', '--tolerance=-1'], {})).toThrow(ConfigError);
    expect(() => parseOperatorConfig(['--partitions=0'], {})).toThrow(ConfigError);
    expect(() => parseOperatorConfig(['--partitions=4', '--load-interval=-5'], {})).toThrow(ConfigError);
    expect(() => parseOperatorConfig(['--partitions=4', '--autoscale-max=3', '--nats=nats://n'], {})).toThrow(
      /autoscale-deployment/,
    );
    expect(() => parseOperatorConfig(['--partitions=4', '--autoscale-max=3', '--autoscale-deployment=w'], {})).toThrow(
      /needs --nats/,
    );
    expect(() =>
      parseOperatorConfig(
        ['--partitions=4', '--autoscale-max=3', '--autoscale-min=4', '--autoscale-deployment=w', '--nats=nats://n'],
        {},
      ),
    ).toThrow(/must not exceed/);
  });
});
