import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../runtime/errors.js';
import { Sequencer } from '../sequencer.js';
import { createOkxAdapter } from './okx.js';
import { contractsToBase } from './okx-contracts.js';
import { capturedFrames, parseAll } from './testing.js';

describe('okx adapter', () => {
  const adapter = createOkxAdapter({
    symbols: ['BTC-USDT', 'ETH-USDT-SWAP'],
    contractValues: { 'ETH-USDT-SWAP': '0.1' },
  });

  it('reads trades and ignores events and pongs; a swap sized in ETH, its contracts times the contract value', async () => {
    await adapter.prepare?.(AbortSignal.timeout(1_000));
    const { trades, rejects } = parseAll(adapter, [
      'pong',
      '{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"a4d3ae55"}',
      '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897","count":"3"}]}',
      '{"arg":{"channel":"trades","instId":"ETH-USDT-SWAP"},"data":[{"instId":"ETH-USDT-SWAP","tradeId":"9","px":"3000","sz":"1","side":"sell","ts":"1630048897898"}]}',
      '{"event":"error","code":"60012","msg":"Invalid request"}',
    ]);
    expect(rejects).toEqual(['venue-error']);
    expect(trades.map((t) => [t.market, t.tradeId, t.price, t.size, t.side])).toEqual([
      ['BTC-USDT', '130639474', '42219.9', '0.12060306', 'buy'],
      ['ETH-USDT-SWAP', '9', '3000', '0.1', 'sell'],
    ]);
    expect([adapter.sequentialIds, adapter.idSpansTradeCount]).toEqual([true, true]);
  });

  it('reads the recorded frames: every trade, ids consecutive per instrument (shared capture, 2022)', () => {
    const frames = capturedFrames('okx_v5_trades.jsonl');
    const okx = createOkxAdapter({ symbols: ['BTC-USDT', 'BTC-USD-220527', 'UNI-USD-SWAP'] });
    const { trades, rejects } = parseAll(
      okx,
      frames.map((f) => f.data),
    );
    // The capture's two coin-margined contracts (4 and 1 trades) are never counted as coins:
    // unprepared, their contract value is unknown (prepare() refuses them, below).
    expect(rejects).toEqual(Array(5).fill('unknown-symbol'));
    const per = (s: string) => trades.filter((t) => t.symbol === s).length;
    expect([per('BTC-USDT'), per('BTC-USD-220527'), per('UNI-USD-SWAP')]).toEqual([69, 0, 0]);
    // Gap detection as the processor runs it: the capture has no gap and no repeat.
    const seq = new Sequencer(true);
    const verdicts = trades.map((t) => {
      const v = seq.check(`okx:${t.symbol}`, t.tradeId, t.eventTime);
      seq.accept(`okx:${t.symbol}`, t.tradeId, t.eventTime);
      return v.kind;
    });
    expect(new Set(verdicts)).toEqual(new Set(['new']));
  });

  it('reads an aggregated trade (count) as that many trades ending at its id, and refuses a count that does not fit', () => {
    const frame = (count: string) =>
      `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897","count":"${count}","source":"0","seqId":1234}]}`;
    const { trades, rejects } = parseAll(adapter, [frame('3'), frame('1'), frame('0'), frame('x'), frame('130639476')]);
    expect(trades.map((t) => t.tradeCount)).toEqual([3, undefined]);
    expect(rejects).toEqual(['malformed-frame', 'malformed-frame', 'malformed-frame']);
    const lane = new Sequencer(true).lane('okx:BTC-USDT');
    lane.accept('130639470', 1630048897000);
    // 130639472..474: one missing trade, 130639471.
    expect(lane.check('130639474', 1630048897897, 3)).toEqual({ kind: 'gap', fromId: 130639471, toId: 130639471 });
  });

  it('refuses a trade id that is not an integer', () => {
    const { rejects } = parseAll(adapter, [
      '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"12a","px":"1","sz":"1","side":"buy","ts":"1630048897897"}]}',
    ]);
    expect(rejects).toEqual(['bad-trade-id']);
  });

  it('multiplies contracts by the contract value exactly', () => {
    expect(contractsToBase('391.0', '10')).toBe('3910');
    expect(contractsToBase('0.01', '0.01')).toBe('0.0001');
    expect(contractsToBase('123456789.12345678', '0.0001')).toBe('12345.678912345678');
    expect(contractsToBase('1e3', '1')).toBeUndefined();
  });

  it('prepare() reads each linear contract’s value from OKX’s instruments, and refuses what has no exact size', async () => {
    const asked: string[] = [];
    const listing: Record<string, unknown> = {
      'BTC-USDT-SWAP': { instId: 'BTC-USDT-SWAP', ctVal: '0.01', ctValCcy: 'BTC', ctType: 'linear' },
      'ETH-USDC-250328': { instId: 'ETH-USDC-250328', ctVal: '0.1', ctValCcy: 'ETH', ctType: 'linear' },
      'XYZ-USDT-SWAP': { instId: 'XYZ-USDT-SWAP', ctVal: '10', ctValCcy: 'USDT', ctType: 'inverse' },
    };
    const fetchInstruments = (async (input: string | URL | Request) => {
      const url = new URL(String(input));
      asked.push(`${url.pathname}?${url.searchParams}`);
      const row = listing[url.searchParams.get('instId') ?? ''];
      const body = row ? { code: '0', msg: '', data: [row] } : { code: '51001', msg: 'no such instrument', data: [] };
      return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const prepared = async (
      symbols: string[],
      contractValues?: Record<string, string>,
      restUrl = 'http://okx.test',
    ) => {
      const okx = createOkxAdapter({
        symbols,
        restUrl,
        fetch: fetchInstruments,
        ...(contractValues ? { contractValues } : {}),
      });
      await okx.prepare?.(AbortSignal.timeout(5_000));
      return okx;
    };

    const okx = await prepared(['BTC-USDT', 'BTC-USDT-SWAP', 'ETH-USDC-250328']);
    expect(asked).toEqual([
      '/api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP',
      '/api/v5/public/instruments?instType=FUTURES&instId=ETH-USDC-250328',
    ]);
    const frame = (instId: string, sz: string) =>
      `{"arg":{"channel":"trades","instId":"${instId}"},"data":[{"instId":"${instId}","tradeId":"7","px":"100000.1","sz":"${sz}","side":"buy","ts":"1630048897897"}]}`;
    const { trades } = parseAll(okx, [
      frame('BTC-USDT', '0.5'),
      frame('BTC-USDT-SWAP', '250'),
      frame('ETH-USDC-250328', '3'),
      frame('BTC-USDT-SWAP', '-2'),
    ]);
    // A size that is no decimal is left as sent: the processor rejects it as bad-size.
    expect(trades.map((t) => [t.symbol, t.size])).toEqual([
      ['BTC-USDT', '0.5'],
      ['BTC-USDT-SWAP', '2.5'],
      ['ETH-USDC-250328', '0.3'],
      ['BTC-USDT-SWAP', '-2'],
    ]);

    // Given values are used as they are, without a request; a bad one, an inverse contract, an
    // unlisted instrument, or no value and no REST URL stop ingest with the symbol named.
    asked.length = 0;
    await prepared(['BTC-USDT-SWAP'], { 'BTC-USDT-SWAP': '0.01' });
    expect(asked).toEqual([]);
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => 'started',
        (err: unknown) => err,
      );
    for (const [symbols, given, restUrl, said] of [
      [['BTC-USDT-SWAP'], { 'BTC-USDT-SWAP': '-1' }, 'http://okx.test', /okx BTC-USDT-SWAP: contract value "-1"/],
      [
        ['BTC-USD-SWAP'],
        { 'BTC-USD-SWAP': '100' },
        'http://okx.test',
        /okx BTC-USD-SWAP: its contract is worth an amount of USD/,
      ],
      [['XYZ-USDT-SWAP'], undefined, 'http://okx.test', /okx XYZ-USDT-SWAP: its contract is worth an amount of USDT/],
      [['DOGE-USDT-SWAP'], undefined, 'http://okx.test', /okx DOGE-USDT-SWAP: OKX does not list this instrument/],
      [['BTC-USDT-SWAP'], undefined, '', /okx BTC-USDT-SWAP: trades count contracts and no REST URL/],
    ] as const) {
      const err = await refusal(prepared([...symbols], given, restUrl));
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(said);
    }
  });
});
