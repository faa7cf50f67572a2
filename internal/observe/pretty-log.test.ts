import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { prettyLine } from './pretty-log.js';
import { CapturedOutput } from './testing/captured-output.js';

describe('log lines', () => {
  it('are JSON when the destination is not a terminal', () => {
    const out = new CapturedOutput(false);
    createLogger({ level: 'info', destination: out })
      .child({ component: 'ingest' })
      .warn({ venue: 'binance', markets: 5 }, 'venue reconnecting');
    expect(JSON.parse(out.text)).toMatchObject({
      level: 40,
      component: 'ingest',
      venue: 'binance',
      markets: 5,
      msg: 'venue reconnecting',
    });
  });

  it('are for people on a terminal: time, level, component, message, fields, in colour', () => {
    const out = new CapturedOutput(true);
    createLogger({ level: 'info', destination: out })
      .child({ component: 'ingest' })
      .warn({ venue: 'binance', markets: 5 }, 'venue reconnecting');
    expect(out.text).toContain('\x1b[33mWARN \x1b[0m [ingest] venue reconnecting');
    expect(out.text.startsWith('\x1b[2m')).toBe(true);
    expect(out.text.replaceAll('\x1b', '')).toMatch(/^\[2m\d\d:\d\d:\d\d\.\d{3}\[0m /);
    expect(out.text).toContain('venue=\x1b[0mbinance');
    expect(() => JSON.parse(out.text)).toThrow();
  });

  it('are pretty without colour when asked for on a stream that is not a terminal', () => {
    const out = new CapturedOutput(false);
    createLogger({ level: 'info', destination: out, pretty: true }).info(
      { port: 8080, url: 'http://x' },
      'api listening',
    );
    expect(out.text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}api listening {2}port=8080 url=http:\/\/x\n$/);
  });

  it('quotes strings with spaces, writes objects as JSON and puts an error with its stack below the line', () => {
    const line = JSON.stringify({
      level: 50,
      time: Date.UTC(2026, 0, 5, 10, 0, 1, 234),
      msg: 'commit failed',
      partition: 3,
      reason: 'server closed the connection',
      tags: ['a', 'b'],
      err: {
        type: 'UnavailableError',
        code: 'TM_UNAVAILABLE',
        message: 'db down',
        stack: 'UnavailableError: db down\n    at commit (sql-store.ts:1:1)',
      },
    });
    expect(prettyLine(line, { color: false })).toBe(
      '10:00:01.234 ERROR commit failed  partition=3 reason="server closed the connection" tags=["a","b"]\n' +
        '    UnavailableError (TM_UNAVAILABLE): db down\n' +
        '    at commit (sql-store.ts:1:1)',
    );
    expect(prettyLine('not json', { color: false })).toBe('not json');
    expect(prettyLine('[1,2]', { color: false })).toBe('[1,2]');
  });
});
