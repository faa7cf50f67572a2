import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../test/harness/shared-data.js';
import { runCandles } from './candles.js';

const DATA = sharedDataDir();
const DIR = resolve(DATA, 'binance-um-btcusdt-2020-02-22');
const tmp = mkdtempSync(join(tmpdir(), 'tickmesh-candles-'));

async function candles(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  stderr.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const code = await runCandles(argv, { stdout, stderr }, new AbortController().signal);
  return { code, stdout: out, stderr: err };
}

function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

const TARDIS_HEADER = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';

describe('tickmesh candles', () => {
  it('prints the exchange klines digit for digit for every full minute of the real BTCUSDT file', async () => {
    const r = await candles('--input', resolve(DIR, 'trades.csv'), '--format', 'tardis', '--interval', '1m');
    expect(r.code).toBe(0);
    const mine = r.stdout.trimEnd().split('\n');
    const theirs = readFileSync(resolve(DIR, 'klines-1m.csv'), 'utf8').trimEnd().split('\n');
    expect(mine).toHaveLength(126);
    // 00:00 and 02:05 are partial in the trade file (SOURCE.md); the 124 minutes between are complete.
    expect(mine.slice(1, 125)).toEqual(theirs.slice(1, 125));
    expect(mine[0]).not.toBe(theirs[0]);
    expect(r.stderr).toContain('9999 trades from 10000 lines into 126 1m candles (1 market); 0 bad rows skipped');
  });

  it('prints the real BTCUSDT file byte for byte as before the single-pass reader, plain, gzip and CRLF', async () => {
    // testdata/ holds the output of the two-pass, string-per-line reader (commit 48cb3b8) on this file.
    const trades = readFileSync(resolve(DIR, 'trades.csv'));
    const gz = join(tmp, 'BTCUSDT-trades.csv.gz');
    writeFileSync(gz, gzipSync(trades));
    const crlf = file('BTCUSDT-crlf.csv', trades.toString('utf8').trimEnd().replaceAll('\n', '\r\n'));
    for (const input of [resolve(DIR, 'trades.csv'), gz, crlf]) {
      for (const output of ['csv', 'jsonl']) {
        const r = await candles('--input', input, '--format', 'tardis', '--output', output);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(
          readFileSync(resolve(import.meta.dirname, `testdata/candles-btcusdt-2020-02-22-1m.${output}`), 'utf8'),
        );
      }
    }
  });

  it('skips bad rows, reporting each with its line number, or stops at the first with --strict', async () => {
    const path = file(
      'bad.csv',
      [
        TARDIS_HEADER,
        'binance-futures,BTCUSDT,1582329602111000,1582329602418379,1,buy,9682,0.132',
        'binance-futures,BTCUSDT,1582329602116000,1582329602418420,2,buy,-9682,0.412',
        'binance-futures,BTCUSDT,1582329602150000,1582329602421528,3,unknown,9682,0.296',
        'binance-futures,BTCUSDT,1582329602150000',
        'binance-futures,BTCUSDT,1582329603150000,1582329602421536,4,sell,9682.5,0.01',
        '',
      ].join('\n'),
    );
    const r = await candles('--input', path, '--format', 'tardis');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${path}:3: bad-price`);
    expect(r.stderr).toContain(`${path}:4: bad-side`);
    expect(r.stderr).toContain(`${path}:5: bad-columns`);
    expect(r.stderr).toContain('2 trades from 6 lines into 1 1m candles (1 market); 3 bad rows skipped');
    expect(r.stdout).toBe(
      '1582329600000,9682.0,9682.5,9682.0,9682.5,0.142,1582329659999,1374.8490,2,0.132,1278.0240,0\n',
    );
    const strict = await candles('--input', path, '--format', 'tardis', '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stderr).toBe(`tickmesh candles: ${path}:3: bad-price: price is not a positive decimal\n`);
    expect(strict.stdout).toBe('');
  });

  it('reads Binance trade files (spot layout, no header; symbol from the file name)', async () => {
    const path = file(
      'ETHBTC-trades-2024-01.csv',
      [
        '100,0.05000000,1.00000000,0.05000000,1704067200000,true,true',
        '101,0.05100000,2.00000000,0.10200000,1704067201000,false,true',
        '102,0.04900000,0.50000000,0.02450000,1704067260000,false,true',
      ].join('\r\n'),
    );
    const r = await candles('--input', path, '--format', 'binance-trades', '--output', 'jsonl');
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(
      rows.map((c) => [c.exchange, c.symbol, c.market, c.open, c.close, c.volume, c.takerBuyVolume, c.trades]),
    ).toEqual([
      ['binance', 'ETHBTC', 'ETH-BTC', '0.05', '0.051', '3', '2', 2],
      ['binance', 'ETHBTC', 'ETH-BTC', '0.049', '0.049', '0.5', '0.5', 1],
    ]);
    const csv = await candles('--input', path, '--format', 'binance-trades');
    expect(csv.stdout.split('\n')[0]).toBe(
      '1704067200000,0.05000000,0.05100000,0.05000000,0.05100000,3.00000000,1704067259999,0.1520000000000000,2,2.00000000,0.1020000000000000,0',
    );
  });

  it('counts the trades inside Binance aggregate trades', async () => {
    const path = file(
      'BTCUSDT-aggTrades-2024-01-01.csv',
      [
        'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker',
        '26129,42000.10,0.500,10000,10004,1704067200100,false',
        '26130,42000.00,0.250,10005,10005,1704067200500,true',
      ].join('\n'),
    );
    const r = await candles('--input', path, '--format', 'binance-aggtrades');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      '1704067200000,42000.10,42000.10,42000.00,42000.00,0.750,1704067259999,31500.05000,6,0.500,21000.05000,0\n',
    );
  });

  it('prints any number of markets as JSON lines but refuses them in one kline CSV', async () => {
    const path = file(
      'two.jsonl',
      [
        {
          exchange: 'coinbase',
          symbol: 'BTC-USD',
          tradeId: '1',
          price: '100',
          size: '1',
          side: 'buy',
          eventTime: 1704067200000,
        },
        {
          exchange: 'kraken',
          symbol: 'XBT/USD',
          tradeId: '7',
          price: '101',
          size: '2',
          side: 'sell',
          eventTime: 1704067200001,
        },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n'),
    );
    const j = await candles('--input', path, '--format', 'jsonl', '--output', 'jsonl');
    expect(j.code).toBe(0);
    expect(
      j.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).market),
    ).toEqual(['BTC-USD', 'BTC-USD']);
    const c = await candles('--input', path, '--format', 'jsonl');
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('holds 2 markets');
    const one = await candles('--input', path, '--format', 'jsonl', '--exchange', 'kraken', '--symbol', 'XBT/USD');
    expect(one.stdout).toBe('1704067200000,101,101,101,101,2,1704067259999,202,1,0,0,0\n');
  });

  it('refuses bad usage with exit code 2 and a missing file with exit code 1', async () => {
    expect((await candles('--format', 'tardis')).code).toBe(2);
    expect((await candles('--input', 'x', '--format', 'csv')).code).toBe(2);
    expect((await candles('--input', 'x', '--format', 'tardis', '--interval', '7m')).code).toBe(2);
    expect((await candles('--input', 'x', '--format', 'tardis', '--bogus')).code).toBe(2);
    const missing = await candles('--input', join(tmp, 'nope.csv'), '--format', 'tardis');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ENOENT');
  });

  it('is registered in the tickmesh CLI', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, 'main.ts'), 'candles', '--help'],
      { cwd: resolve(import.meta.dirname, '../..') },
    );
    expect(stdout).toContain('tickmesh candles: build candles offline');
  });
});
