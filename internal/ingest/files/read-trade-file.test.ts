import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../../test/harness/shared-data.js';
import { InputError } from '../../runtime/errors.js';
import { createLineParser, readTradeFile, symbolFromBinanceFileName } from './read-trade-file.js';
import type { TradeFileItem, TradeFileOptions } from './trade-file.js';

const tmp = mkdtempSync(join(tmpdir(), 'tickmesh-files-'));
const DATA = sharedDataDir();

function file(name: string, text: string | Buffer): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

async function all(opts: TradeFileOptions): Promise<TradeFileItem[]> {
  const items: TradeFileItem[] = [];
  for await (const item of readTradeFile(opts)) items.push(item);
  return items;
}

describe('readTradeFile: tardis', () => {
  it('reads the real BTCUSDT file: 9,999 trades, times in ms, taker sides, canonical market', async () => {
    const items = await all({
      path: resolve(DATA, 'binance-um-btcusdt-2020-02-22/trades.csv'),
      format: 'tardis',
    });
    expect(items).toHaveLength(9_999);
    expect(items[0]).toEqual({
      kind: 'trade',
      line: 2,
      trade: {
        exchange: 'binance-futures',
        symbol: 'BTCUSDT',
        market: 'BTC-USDT',
        tradeId: '42377944',
        price: '9682',
        size: '0.132',
        side: 'buy',
        eventTime: 1582329602111,
        receiveTime: 1582329602418,
      },
    });
    expect(items.every((i) => i.kind === 'trade')).toBe(true);
  });

  it('finds columns by name, filters by exchange and symbol, maps tardis venue ids', async () => {
    const path = file(
      'multi.csv',
      [
        'symbol,exchange,id,timestamp,side,price,amount',
        'BTC-USDT-SWAP,okex-swap,1,1704067200000123,sell,42000.1,3',
        'ETH-USDT-SWAP,okex-swap,2,1704067200000456,buy,2300,1',
      ].join('\n'),
    );
    const items = await all({ path, format: 'tardis', symbol: 'ETH-USDT-SWAP' });
    expect(items).toEqual([
      {
        kind: 'trade',
        line: 3,
        trade: expect.objectContaining({
          exchange: 'okx',
          market: 'ETH-USDT-SWAP',
          eventTime: 1704067200000,
          receiveTime: 1704067200000,
        }),
      },
    ]);
  });

  it('rejects a file without the tardis header, and bad rows, with line numbers and reasons', async () => {
    const path = file('noheader.csv', 'binance,BTCUSDT,1,2,3,buy,1,1\n');
    expect(await all({ path, format: 'tardis' })).toMatchObject([{ kind: 'reject', line: 1, reason: 'bad-header' }]);
    const rows = file(
      'rows.csv',
      [
        'exchange,symbol,timestamp,local_timestamp,id,side,price,amount',
        'binance,BTCUSDT,x,1,1,buy,1,1',
        'binance,BTCUSDT,1704067200000000,1704067200000500,,buy,1,1',
        'binance,BTCUSDT,1704067200000000,1704067200000500,3,buy,1,0',
        'binance,NOPE,1704067200000000,1704067200000500,4,buy,1,1',
      ].join('\n'),
    );
    expect((await all({ path: rows, format: 'tardis' })).map((i) => i.kind === 'reject' && [i.line, i.reason])).toEqual(
      [
        [2, 'bad-time'],
        [3, 'bad-trade-id'],
        [4, 'bad-size'],
        [5, 'unknown-symbol'],
      ],
    );
  });
});

describe('readTradeFile: Binance public files', () => {
  it('reads the USD-M trades layout with its header, µs spot times, gzip and CRLF', async () => {
    const futures = file(
      'BTCUSDT-trades-2024-01.csv',
      'id,price,qty,quote_qty,time,is_buyer_maker\r\n1,42000.10,0.010,420.001,1704067200123,true\r\n',
    );
    expect(await all({ path: futures, format: 'binance-trades' })).toEqual([
      {
        kind: 'trade',
        line: 2,
        trade: {
          exchange: 'binance-futures',
          symbol: 'BTCUSDT',
          market: 'BTC-USDT',
          tradeId: '1',
          price: '42000.10',
          size: '0.010',
          side: 'sell',
          eventTime: 1704067200123,
          receiveTime: 1704067200123,
        },
      },
    ]);
    const spot = file('x.csv.gz', gzipSync('7,1.5,2,3,1735689600123456,False,True\n'));
    const items = await all({ path: spot, format: 'binance-trades', symbol: 'SOLUSDC', exchange: 'binance' });
    expect(items).toMatchObject([
      { kind: 'trade', trade: { side: 'buy', eventTime: 1735689600123, market: 'SOL-USDC' } },
    ]);
  });

  it('reads aggTrades with the trade count they stand for, and rejects inconsistent ranges', async () => {
    const path = file(
      'ETHUSDT-aggTrades-2024-01-01.csv',
      [
        '5,2300.5,1.2,100,102,1704067200000,true,true',
        '6,2300.5,1.2,110,109,1704067200000,true,true',
        // 2^32 trades: more than a trade.v1 record can carry.
        '7,2300.5,1.2,0,4294967295,1704067200000,true,true',
      ].join('\n'),
    );
    const items = await all({ path, format: 'binance-aggtrades' });
    expect(items[0]).toMatchObject({
      kind: 'trade',
      trade: { tradeId: '5', tradeCount: 3, exchange: 'binance', side: 'sell' },
    });
    expect(items[1]).toMatchObject({ kind: 'reject', line: 2, reason: 'bad-trade-count' });
    expect(items[2]).toMatchObject({ kind: 'reject', line: 3, reason: 'bad-trade-count' });
  });

  it('needs a symbol: from the options or the file name', () => {
    expect(symbolFromBinanceFileName('/x/BTCUSDT-trades-2020-02.csv')).toBe('BTCUSDT');
    expect(symbolFromBinanceFileName('BTCUSDT_250328-aggTrades-2025-01-01.csv.gz')).toBe('BTCUSDT_250328');
    expect(() => createLineParser({ path: 'trades.csv', format: 'binance-trades' })).toThrow(InputError);
    expect(() => createLineParser({ path: 'trades.csv', format: 'binance-trades', symbol: '???' })).toThrow(InputError);
  });
});

describe('readTradeFile: jsonl', () => {
  it('reads normalized trades, derives the market, and rejects what is not one', async () => {
    const path = file(
      't.jsonl',
      [
        JSON.stringify({
          exchange: 'binance',
          symbol: 'ETHBTC',
          tradeId: 9,
          price: '0.05',
          size: '1',
          side: 'buy',
          eventTime: 1704067200000,
        }),
        '{not json',
        JSON.stringify({
          exchange: 'binance',
          symbol: 'ETHBTC',
          tradeId: '10',
          price: 0.05,
          size: '1',
          side: 'buy',
          eventTime: 1704067200000,
        }),
        JSON.stringify({
          exchange: 'binance',
          symbol: 'ETHBTC',
          tradeId: '11',
          price: '0.05',
          size: '1',
          side: 'buy',
          eventTime: 1704067200000,
          tradeCount: 0,
        }),
        '',
      ].join('\n'),
    );
    const items = await all({ path, format: 'jsonl' });
    expect(items[0]).toMatchObject({
      kind: 'trade',
      trade: { tradeId: '9', market: 'ETH-BTC', receiveTime: 1704067200000 },
    });
    expect(items.slice(1).map((i) => i.kind === 'reject' && [i.line, i.reason])).toEqual([
      [2, 'bad-json'],
      [3, 'bad-price'],
      [4, 'bad-trade-count'],
    ]);
  });
});
