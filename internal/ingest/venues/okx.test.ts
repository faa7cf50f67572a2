import { describe, expect, it } from 'vitest';
import { Sequencer } from '../sequencer.js';
import { createOkxAdapter } from './okx.js';
import { capturedFrames, parseAll } from './testing.js';

describe('okx adapter', () => {
  const adapter = createOkxAdapter({ symbols: ['BTC-USDT', 'ETH-USDT-SWAP'] });

  it('reads trades and ignores events and pongs', () => {
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
      ['ETH-USDT-SWAP', '9', '3000', '1', 'sell'],
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
    expect(rejects).toEqual([]);
    const per = (s: string) => trades.filter((t) => t.symbol === s).length;
    expect([per('BTC-USDT'), per('BTC-USD-220527'), per('UNI-USD-SWAP')]).toEqual([69, 4, 1]);
    expect(trades.find((t) => t.symbol === 'BTC-USD-220527')?.market).toBe('BTC-USD-220527');
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
});
