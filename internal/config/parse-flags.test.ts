import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../runtime/errors.js';
import { boolFlag, intFlag } from './flags.js';
import { type FlagSpec, flagHelp, parseFlags, parseFlagValues } from './parse-flags.js';

const spec = {
  port: { schema: intFlag(0, 65_535).default(9464), arg: 'N', env: 'TEST_PORT', help: 'probe port' },
  leaseDurationSeconds: { schema: intFlag(1).default(15), arg: 'S', flag: 'lease-duration', help: 'lease duration' },
  partitions: { schema: intFlag(1), arg: 'N', env: 'TEST_PARTITIONS', help: 'partition count' },
  clientId: { schema: z.string().optional(), arg: 'ID', defaultHelp: 'tickmesh-<host>', help: 'client id' },
  migrate: { schema: boolFlag.default(true), arg: 'true|false', help: 'apply migrations' },
  dryRun: { schema: z.boolean().default(false), help: 'change nothing' },
} satisfies FlagSpec;

describe('parseFlags', () => {
  it('takes flags over the environment over the defaults, and freezes the result', () => {
    const v = parseFlags(spec, ['--partitions', '4', '--dry-run'], { TEST_PORT: '1234', TEST_PARTITIONS: '9' });
    expect(v).toEqual({
      port: 1234,
      leaseDurationSeconds: 15,
      partitions: 4,
      clientId: undefined,
      migrate: true,
      dryRun: true,
    });
    expect(Object.isFrozen(v)).toBe(true);
    expect(
      parseFlags(spec, ['--port=80', '--lease-duration=3'], { TEST_PORT: '1', TEST_PARTITIONS: '9' }),
    ).toMatchObject({ port: 80, leaseDurationSeconds: 3, partitions: 9 });
  });

  it('counts an empty environment variable as absent', () => {
    expect(parseFlags(spec, ['--partitions=1'], { TEST_PORT: '' }).port).toBe(9464);
  });

  it('refuses an unknown flag and a stray argument with a ConfigError that names them', () => {
    expect(() => parseFlags(spec, ['--partitions=1', '--bogus', 'x'], {})).toThrow('unknown flag --bogus (see --help)');
    expect(() => parseFlags(spec, ['--partitions=1', 'stray'], {})).toThrow(/unexpected argument stray/);
    expect(() => parseFlags(spec, ['--partitions'], {})).toThrow(ConfigError);
  });

  it('names each bad value by its flag, and the environment variable it came from', () => {
    const bad = () => parseFlags(spec, ['--port', '70000', '--migrate', 'maybe'], { TEST_PARTITIONS: '0' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(
      /^--port: Too big: expected number to be <=65535; --partitions \(from TEST_PARTITIONS\): .*; --migrate: /,
    );
    expect(() => parseFlags(spec, [], {})).toThrow('--partitions: required (or TEST_PARTITIONS)');
  });

  it('parses a record of raw values as the helm chart and the tests give them', () => {
    expect(parseFlagValues(spec, { partitions: '2', migrate: 'false' })).toMatchObject({
      partitions: 2,
      migrate: false,
    });
  });

  it('builds --help from the spec: each flag with its placeholder, help, default and environment variable', () => {
    const help = flagHelp(spec);
    expect(help.split('\n')).toEqual([
      '  --port N                      probe port (default 9464; env TEST_PORT)',
      '  --lease-duration S            lease duration (default 15)',
      '  --partitions N                partition count (env TEST_PARTITIONS)',
      '  --client-id ID                client id (default tickmesh-<host>)',
      '  --migrate true|false          apply migrations (default true)',
      '  --dry-run                     change nothing',
    ]);
  });

  it('wraps long help under its own column, and puts a long flag on a line of its own', () => {
    const help = flagHelp({
      streamMaxConnectionsPerAddress: { schema: intFlag(1).default(20), arg: 'N', help: 'word '.repeat(30).trim() },
    });
    const lines = help.split('\n');
    expect(lines[0]).toBe('  --stream-max-connections-per-address N');
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines.slice(1)) expect(l).toMatch(/^ {32}\S/);
    expect(lines.every((l) => l.length <= 110)).toBe(true);
    expect(help.replace(/\s+/g, ' ')).toMatch(/ word \(default 20\)$/);
  });
});
