import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../../test/harness/shared-data.js';
import { type ParsedDecimal, parseDecimal } from '../../actor/decimal.js';
import type { Trade } from '../../market/trade.js';
import { readTradeFile, scanTradeFile } from './read-trade-file.js';
import type { FileTradeRow, TradeFileItem, TradeFileOptions } from './trade-file.js';

const tmp = mkdtempSync(join(tmpdir(), 'tickmesh-scan-'));

function file(name: string, text: string | Buffer): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

interface Scanned {
  /** Every item in file order; rows as the trade item readTradeFile would give. */
  items: TradeFileItem[];
  /** Lines read in place. */
  fast: number;
  /** Lines read in place whose numbers differ from the actor's parse of the trade's strings. */
  mismatched: number[];
}

/** The numbers the actor parses from a trade's strings (MarketActor.onTrade). */
function parsedNumbers(t: Trade) {
  const d: ParsedDecimal = { value: 0, scale: 0 };
  parseDecimal(t.price, d);
  const price = { ...d };
  parseDecimal(t.size, d);
  const id = t.tradeId;
  const numeric = /^(0|[1-9][0-9]{0,14})$/.test(id);
  const decimals = (s: string) => (s.includes('.') ? s.length - s.indexOf('.') - 1 : 0);
  return {
    priceValue: price.value,
    priceScale: price.scale,
    priceDecimals: decimals(t.price),
    sizeValue: d.value,
    sizeScale: d.scale,
    sizeDecimals: decimals(t.size),
    idNum: numeric ? Number(id) : Number.NaN,
    buy: t.side === 'buy',
  };
}

async function scanned(opts: TradeFileOptions): Promise<Scanned> {
  const out: Scanned = { items: [], fast: 0, mismatched: [] };
  await scanTradeFile(opts, {
    row: (row: FileTradeRow, line: number) => {
      const trade = row.toTrade();
      const numbers = JSON.stringify({
        priceValue: row.priceValue,
        priceScale: row.priceScale,
        priceDecimals: row.priceDecimals,
        sizeValue: row.sizeValue,
        sizeScale: row.sizeScale,
        sizeDecimals: row.sizeDecimals,
        idNum: row.idNum,
        buy: row.buy,
      });
      if (numbers !== JSON.stringify(parsedNumbers(trade)) || row.tradeId !== trade.tradeId) {
        out.mismatched.push(line);
      }
      out.items.push({ kind: 'trade', line, trade });
      out.fast++;
      return false;
    },
    item: (item) => {
      out.items.push(item);
      return false;
    },
    block: async () => {},
  });
  return out;
}

async function read(opts: TradeFileOptions): Promise<TradeFileItem[]> {
  const items: TradeFileItem[] = [];
  for await (const item of readTradeFile(opts)) items.push(item);
  return items;
}

const HEADER = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';
const ROW = (id: number | string, price: string, amount: string, side = 'buy', symbol = 'BTCUSDT') =>
  `binance-futures,${symbol},1582329602111000,1582329602426000,${id},${side},${price},${amount}`;

describe('scanTradeFile: tardis rows read in place', () => {
  it('gives what readTradeFile gives, row for row, on clean and odd rows alike', async () => {
    const lines = [
      HEADER,
      ROW(1, '9682.19', '0.132'),
      ROW(2, '9682.10', '0.100'),
      ROW(3, '9682', '5', 'sell'),
      ROW(4, '0009682.5000', '0.00000638'),
      ROW(5, '.5', '1'),
      ROW(6, '7.', '1'),
      ROW(7, '1e5', '1'),
      ROW(8, '0.000', '1'),
      ROW(9, '9682.19', '-1'),
      ROW('0123', '9682.19', '1'),
      ROW('1234567890123456', '9682.19', '1'),
      ROW('abc-42', '9682.19', '1'),
      ROW(10, '9682.19', '1', 'unknown'),
      ROW(11, '9682.19', '1', 'buyer'),
      ROW(12, '99999999999999999', '1'),
      ROW(13, '1.0000000000000000000000000', '1'),
      ROW(14, '0.1234567890123456', '1'),
      '',
      ROW(15, '9682.19', '1', 'buy', 'ETHUSDT'),
      ROW(16, '9682.19', '1', 'buy', 'NOSUCHMARKET'),
      ROW(17, '9682.19', '1', 'buy', 'BTCUSDT'),
      'binance-futures,BTCUSDT,1582329602111000,,18,buy,1,1',
      'binance-futures,BTCUSDT,1582329602111000,1582329302111000,19,buy,1,1',
      'binance-futures,BTCUSDT,15823296021110001,1582329602426000,20,buy,1,1',
      'binance-futures,BTCUSDT,1582329602111000,1582329602426000,21,buy,1',
      'binance-futures,BTCUSDT,1582329602111000,1582329602426000,22,buy,1,1,extra',
      'okex,BTC-USDT,1582329602111000,1582329602426000,23,sell,9682.19,2',
      'okex,BTC-USDT,1582329602111000,1582329602426000,24,sell,9682.19,3',
      'binance-futures,BTCÜSDT,1582329602111000,1582329602426000,25,buy,1,1',
      ROW(26, '9682.19', '1\r'),
      ROW(27, '9682.19', '1'),
    ];
    const text = `${lines.join('\n')}\r\n${ROW(28, '1', '2')}\r\n${ROW(29, '1', '2')}`;
    const path = file('odd.csv', text);
    const want = await read({ path, format: 'tardis' });
    const got = await scanned({ path, format: 'tardis' });
    expect(got.items).toEqual(want);
    expect(got.mismatched).toEqual([]);
    // The clean rows, and those differing only in decimals the actor strips, are read in place.
    expect(got.fast).toBeGreaterThanOrEqual(10);
  });

  it('gives what readTradeFile gives with the exchange, symbol and market options', async () => {
    const lines = [HEADER, ROW(1, '1', '1'), ROW(2, '2', '1', 'sell', 'ETHUSDT'), ROW(3, '3', '1'), ROW(4, '4', '1')];
    const path = file('filtered.csv', `${lines.join('\n')}\n`);
    for (const opts of [{ symbol: 'ETHUSDT' }, { exchange: 'okx' }, { exchange: 'binance-futures', market: 'X-Y' }]) {
      expect((await scanned({ path, format: 'tardis', ...opts })).items).toEqual(
        await read({ path, format: 'tardis', ...opts }),
      );
    }
  });

  it('reads the real BTCUSDT file in place, plain and gzipped, with lines that span read chunks', {
    timeout: 120_000,
  }, async () => {
    const real = resolve(sharedDataDir(), 'binance-um-btcusdt-2020-02-22/trades.csv');
    const want = await read({ path: real, format: 'tardis' });
    const plain = await scanned({ path: real, format: 'tardis' });
    expect(plain.items).toEqual(want);
    expect(plain.fast).toBe(9_998);
    expect(plain.mismatched).toEqual([]);
    // 100,000 rows (~8 MB) make several 1 MiB chunks whose edges cut rows.
    const rows = [HEADER];
    // Three markets in turn: a symbol that changes every row is found by its bytes' hash.
    const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
    for (let i = 0; i < 100_000; i++) {
      rows.push(ROW(i + 1, `${9_000 + (i % 977)}.${i % 100}`, `0.${(i % 9) + 1}`, 'buy', symbols[i % 3]));
    }
    const big = file('big.csv.gz', gzipSync(`${rows.join('\n')}\n`));
    const many = await scanned({ path: big, format: 'tardis' });
    expect(many.items).toEqual(await read({ path: big, format: 'tardis' }));
    // Every row but the header and each symbol's first.
    expect(many.fast).toBe(99_997);
    expect(many.mismatched).toEqual([]);
  });
});
