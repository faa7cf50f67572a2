import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseVerifyOptions } from '../../internal/config/verify.js';
import { parseGapLines, runVerify } from './verify.js';

const ENV = { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db' };
const BASE = ['--exchange', 'binance', '--symbol', 'BTCUSDT', '--from', '2020-02-22T00:01Z', '--to', '1582337100000'];

describe('tickmesh verify options', () => {
  it('reads ISO 8601 and Unix ms times, the database from the environment', () => {
    expect(parseVerifyOptions(BASE, ENV)).toMatchObject({
      exchange: 'binance',
      interval: '1m',
      from: 1582329660000,
      to: 1582337100000,
      schema: 'public',
      databaseUrl: ENV.DATABASE_URL,
      requestsPerSecond: 5,
    });
  });

  it.each([
    [['--exchange', 'sim', ...BASE.slice(2)], /--exchange/],
    [[...BASE.slice(0, 6), '--to', '2020-02-22T00:00Z'], /--to must be after --from/],
    [[...BASE, '--from', 'yesterday'], /neither ISO 8601 nor Unix ms/],
    [[...BASE, '--interval', '2m'], /--interval/],
    [[...BASE, '--bogus', '1'], /bogus/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseVerifyOptions(argv, ENV)).toThrow(message);
  });

  it('exits 2 on a usage error without touching the database', async () => {
    let err = '';
    const stderr = new Writable({
      write(chunk, _e, done) {
        err += String(chunk);
        done();
      },
    });
    const code = await runVerify(BASE.slice(0, 4), { stdout: stderr, stderr }, {}, AbortSignal.timeout(1000));
    expect(code).toBe(2);
    expect(err).toMatch(/--from/);
  });

  it('reads gap windows from plain objects and from gap.v1 events with a window', () => {
    const text = [
      '{"fromTime": 1, "toTime": 2}',
      '',
      '{"venue":"binance","fromId":"5","toId":"9"}',
      '{"venue":"bybit","window":{"fromTime":10,"toTime":20}}',
    ].join('\n');
    expect(parseGapLines(text)).toEqual([
      { fromTime: 1, toTime: 2 },
      { fromTime: 10, toTime: 20 },
    ]);
    expect(() => parseGapLines('{')).toThrow(/line 1 is not JSON/);
  });
});
