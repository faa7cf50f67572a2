import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/harness/shared-data.js';
import type { Trade } from '../../market/trade.js';
import { binanceCaptureSource } from '../captures/binance-capture.js';
import { openCapture } from '../captures/capture-file.js';
import type { RejectReason } from '../events.js';
import { binanceTradeFrame } from '../testing/local-binance.js';
import type { ParseOutput } from '../venue.js';
import { createBinanceAdapter, parseFrame, tradeFrameParser } from './binance.js';
import type { CompactParser } from './compact-json.js';

// The project's shared data, at ../shared beside every checkout and CI run (never copied in).
const DATA = sharedData('binance-ws-captures');

function collector() {
  const trades: Trade[] = [];
  const rejects: RejectReason[] = [];
  const sink: ParseOutput = { trade: (t) => trades.push(t), reject: (r) => rejects.push(r) };
  return { trades, rejects, sink };
}

describe('binance adapter on real captures', () => {
  it('reads the 91 futures aggTrades and ignores depth, kline and bookTicker frames', async () => {
    const capture = await openCapture(`${DATA}/cryptofeed_BINANCE_FUTURES.ws.1.0`);
    const source = binanceCaptureSource(capture.header);
    expect(source.venue).toBe('binance-futures');
    expect(source.stream).toBe('aggTrade');
    expect(source.symbols).toEqual(['SUSHIUSDT', 'AKROUSDT', 'KEEPUSDT', 'CTKUSDT']);
    const c = collector();
    let frames = 0;
    for await (const f of capture.frames()) {
      frames += 1;
      source.adapter.parse(f.data, f.receiveTime, c.sink);
    }
    expect(frames).toBe(1535);
    expect(c.rejects).toEqual([]);
    expect(c.trades).toHaveLength(91);
    expect(c.trades[0]).toEqual({
      exchange: 'binance-futures',
      symbol: 'CTKUSDT',
      market: 'CTK-USDT',
      tradeId: '16599292',
      price: '1.01100',
      size: '10',
      side: 'buy',
      eventTime: 1626992741421,
      receiveTime: 1626992742290,
      tradeCount: 1,
    });
    expect(c.trades[1]?.side).toBe('sell');
    expect(new Set(c.trades.map((t) => t.market))).toEqual(
      new Set(['SUSHI-USDT', 'AKRO-USDT', 'KEEP-USDT', 'CTK-USDT']),
    );
  });

  it('counts the exchange trades each aggTrade stands for (last id - first id + 1)', async () => {
    const capture = await openCapture(`${DATA}/cryptofeed_BINANCE_FUTURES.ws.1.0`);
    const source = binanceCaptureSource(capture.header);
    const c = collector();
    const expected = new Map<string, number>();
    for await (const f of capture.frames()) {
      source.adapter.parse(f.data, f.receiveTime, c.sink);
      const d = JSON.parse(f.data).data;
      if (d?.e === 'aggTrade') expected.set(`${d.s}:${d.a}`, d.l - d.f + 1);
    }
    expect(c.trades).toHaveLength(91);
    expect(new Map(c.trades.map((t) => [`${t.symbol}:${t.tradeId}`, t.tradeCount]))).toEqual(expected);
    // The capture has aggregates of several trades (SUSHIUSDT 87353230 covers 126902924..126902927).
    expect(expected.get('SUSHIUSDT:87353230')).toBe(4);
  });

  it('reads the 2 spot aggTrades with their decimals untouched', async () => {
    const capture = await openCapture(`${DATA}/cryptofeed_BINANCE.ws.1.0`);
    const source = binanceCaptureSource(capture.header);
    expect(source.venue).toBe('binance');
    const c = collector();
    for await (const f of capture.frames()) source.adapter.parse(f.data, f.receiveTime, c.sink);
    expect(c.rejects).toEqual([]);
    expect(c.trades.map((t) => [t.market, t.tradeId, t.price, t.size])).toEqual([
      ['NKN-USDT', '15683430', '0.35280000', '58.00000000'],
      ['LRC-BTC', '9213679', '0.00000638', '177.00000000'],
    ]);
  });
});

describe('binance adapter on bad input', () => {
  const adapter = createBinanceAdapter({ market: 'usdm', symbols: ['BTCUSDT'], restUrl: '' });
  const frame = (data: Record<string, unknown>) =>
    JSON.stringify({
      stream: 'btcusdt@trade',
      data: { e: 'trade', E: 1, s: 'BTCUSDT', t: 5, p: '1.5', q: '2', T: 1582329602111, m: false, ...data },
    });

  it.each([
    ['not json', '{"stream":', 'malformed-frame'],
    ['an array', '[1,2]', 'malformed-frame'],
    ['no data', '{"stream":"btcusdt@trade"}', 'malformed-frame'],
    ['unknown event', '{"stream":"btcusdt@weird","data":{"e":"weird"}}', 'unknown-message'],
    ['unknown symbol', frame({ s: 'ETHUSDT' }), 'unknown-symbol'],
    ['numeric price', frame({ p: 1.5 }), 'bad-price'],
    ['missing size', frame({ q: undefined }), 'bad-size'],
    ['fractional id', frame({ t: 1.5 }), 'bad-trade-id'],
    ['string time', frame({ T: '1582329602111' }), 'bad-time'],
    ['no maker flag', frame({ m: 'yes' }), 'bad-side'],
    ['subscription error', '{"error":{"code":2,"msg":"Invalid request"},"id":1}', 'venue-error'],
  ])('rejects %s', (_name, text, reason) => {
    const c = collector();
    adapter.parse(text, 1, c.sink);
    expect(c.trades).toEqual([]);
    expect(c.rejects).toEqual([reason]);
  });

  it.each([
    ['no first id', { f: undefined }],
    ['last before first', { f: 10, l: 9 }],
    ['fractional last', { l: 10.5 }],
    ['string first', { f: '10' }],
  ])('rejects an aggTrade with %s as malformed', (_name, ids) => {
    const agg = createBinanceAdapter({ market: 'usdm', symbols: ['BTCUSDT'], restUrl: '', stream: 'aggTrade' });
    const data = { e: 'aggTrade', s: 'BTCUSDT', a: 5, p: '1.5', q: '2', f: 10, l: 12, T: 1582329602111, m: true };
    const c = collector();
    agg.parse(JSON.stringify({ stream: 'btcusdt@aggTrade', data }), 1, c.sink);
    expect(c.trades.map((t) => t.tradeCount)).toEqual([3]);
    agg.parse(JSON.stringify({ stream: 'btcusdt@aggTrade', data: { ...data, ...ids } }), 1, c.sink);
    expect(c.trades).toHaveLength(1);
    expect(c.rejects).toEqual(['malformed-frame']);
  });

  it('treats subscription acks as control, not data', () => {
    const c = collector();
    adapter.parse('{"result":null,"id":1}', 1, c.sink);
    expect(c.trades).toEqual([]);
    expect(c.rejects).toEqual([]);
  });
});

describe('binance aggTrades backfill', () => {
  it("asks /aggTrades from the missing id and keeps each row's trade count", async () => {
    const urls: string[] = [];
    const rows = [
      { a: 7, p: '1.5', q: '2', f: 100, l: 102, T: 1582329602111, m: true, M: true },
      { a: 8, p: '1.6', q: '1', f: 103, l: 103, T: 1582329602112, m: false, M: true },
      { a: 9, p: '1.6', q: '1', f: 105, l: 104, T: 1582329602113, m: false, M: true },
    ];
    const adapter = createBinanceAdapter({
      market: 'usdm',
      symbols: ['BTCUSDT'],
      stream: 'aggTrade',
      restUrl: 'http://rest.invalid',
      fetch: async (url) => {
        urls.push(String(url));
        return new Response(JSON.stringify(urls.length === 1 ? rows : []), {
          headers: { 'content-type': 'application/json' },
        });
      },
    });
    const trades = await adapter.backfill?.({
      symbol: 'BTCUSDT',
      fromId: 7n,
      toId: 9n,
      beforeTime: Date.now(),
      signal: AbortSignal.timeout(5000),
    });
    expect(urls[0]).toBe('http://rest.invalid/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=7&limit=3');
    // Row 9's ids run backwards: it is not a trade this adapter can count, so it is left out (a gap stays recorded).
    expect(trades?.map((t) => [t.tradeId, t.tradeCount, t.side])).toEqual([
      ['7', 3, 'sell'],
      ['8', 1, 'buy'],
    ]);
  });
});

describe('binance connection plan', () => {
  it('splits streams at the per-connection cap and subscribes in chunks', () => {
    const symbols = Array.from({ length: 2500 }, (_, i) => `C${i}USDT`);
    const plans = createBinanceAdapter({ market: 'spot', symbols, wsUrl: 'ws://127.0.0.1:1' }).plan();
    expect(plans.map((p) => p.symbols.length)).toEqual([1024, 1024, 452]);
    expect(plans[0]?.url).toBe('ws://127.0.0.1:1/stream');
    expect(plans[0]?.subscribe).toHaveLength(6);
    const first = JSON.parse(plans[0]?.subscribe[0] ?? '{}');
    expect(first.method).toBe('SUBSCRIBE');
    expect(first.params[0]).toBe('c0usdt@trade');
    expect(first.params).toHaveLength(200);
    expect(plans[0]?.maxOutgoingPerSecond).toBeLessThanOrEqual(5);
    expect(plans[0]?.maxLifetimeMs).toBeLessThan(24 * 3600_000);
  });
});

describe('binance frame parsing', () => {
  /** JSON.parse's verdict: the value, or 'invalid'. */
  const reference = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return 'invalid';
    }
  };
  /**
   * What parseFrame(text, fast) must give: JSON.parse's verdict, less the keys the trade shapes
   * match but leave unread (event time, order type, best-match flag) when the fast path took it.
   */
  const expected = (text: string, fast: CompactParser): unknown => {
    const want = reference(text);
    if (fast.parse(text) === undefined) return want;
    const { E: _e, X: _x, M: _m, ...data } = (want as { data: Record<string, unknown> }).data;
    return { ...(want as object), data };
  };
  const frame =
    '{"stream":"btcusdt@trade","data":{"e":"trade","E":1582329602500,"T":1582329602499,"s":"BTCUSDT","t":123,"p":"9663.58","q":"0.002","X":"MARKET","m":true}}';
  const fast = tradeFrameParser('usdm', 'trade');

  it('parses every frame of the real captures as JSON.parse does, every aggTrade in its fast shape', async () => {
    let frames = 0;
    for (const [file, market] of [
      ['cryptofeed_BINANCE.ws.1.0', 'spot'],
      ['cryptofeed_BINANCE_FUTURES.ws.1.0', 'usdm'],
    ] as const) {
      const fast = tradeFrameParser(market, 'aggTrade');
      let shaped = 0;
      let aggTrades = 0;
      const capture = await openCapture(`${DATA}/${file}`);
      for await (const f of capture.frames()) {
        expect(parseFrame(f.data)).toEqual(JSON.parse(f.data));
        expect(parseFrame(f.data, fast)).toEqual(expected(f.data, fast));
        if (fast.parse(f.data) !== undefined) shaped++;
        if (f.data.includes('"e":"aggTrade"')) aggTrades++;
        frames++;
      }
      expect(shaped, file).toBe(aggTrades);
      expect(aggTrades, file).toBe(market === 'spot' ? 2 : 91);
    }
    expect(frames).toBeGreaterThan(1500);
  });

  it("parses trade frames in both markets' shapes by the fast path, to JSON.parse's value", () => {
    const t: Trade = {
      exchange: 'binance-futures',
      symbol: 'BTCUSDT',
      market: 'BTC-USDT',
      tradeId: '123',
      price: '9663.58',
      size: '0.002',
      side: 'sell',
      eventTime: 1582329602499,
      receiveTime: 0,
    };
    for (const market of ['spot', 'usdm'] as const) {
      const text = binanceTradeFrame(t, market === 'usdm');
      const shaped = tradeFrameParser(market, 'trade').parse(text);
      expect(shaped, market).toBeDefined();
      expect(JSON.stringify(shaped)).toBe(JSON.stringify(expected(text, tradeFrameParser(market, 'trade'))));
      expect(shaped?.data).not.toHaveProperty('E');
      expect(tradeFrameParser(market === 'spot' ? 'usdm' : 'spot', 'trade').parse(text)).toBeUndefined();
    }
  });

  it('agrees with JSON.parse on mutated frames, valid or not (escapes, duplicates, whitespace, cut wrappers)', () => {
    const alphabet = fc.constantFrom(...'{}[]":,. -tae\\\u0001\n'.split(''), '"data":', '","data":', ',"data":2');
    const edit = fc.record({
      at: fc.nat(frame.length),
      drop: fc.nat(3),
      insert: fc.string({ unit: alphabet, maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let text = frame;
        for (const { at, drop, insert } of edits) text = text.slice(0, at) + insert + text.slice(at + drop);
        const want = reference(text);
        expect(parseFrame(text) ?? 'invalid').toEqual(want);
        expect(parseFrame(text, fast) ?? 'invalid').toEqual(expected(text, fast));
      }),
      { numRuns: 20_000 },
    );
    for (const text of [
      '{"stream":"a\\"b","data":{}}',
      '{"stream":"a","data":{"x":1},"data":2}',
      '{"stream":"a","data": {"x":1} }',
      '{"stream":"a","data":}',
      '{"stream":"a\u0001","data":{}}',
    ]) {
      expect(parseFrame(text) ?? 'invalid', text).toEqual(reference(text));
      expect(parseFrame(text, fast) ?? 'invalid', text).toEqual(expected(text, fast));
    }
  });
});
