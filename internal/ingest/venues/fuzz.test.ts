import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/harness/shared-data.js';
import { tradeRecord } from '../../log/record.js';
import { decodeTrades } from '../../log/trade-batch.js';
import type { Trade } from '../../market/trade.js';
import { REJECT_REASONS, type RejectReason } from '../events.js';
import { checkTrade } from '../validate.js';
import type { ParseOutput, VenueAdapter } from '../venue.js';
import { createAdapter, type LiveVenue } from './registry.js';

/**
 * Hostile and broken frames against every venue adapter: real captured frames
 * (shared/data/venue-ws-captures, binance-ws-captures), mutated, and arbitrary text. Whatever
 * comes in, parse() does not throw, emits at most a bounded number of trades and rejects per
 * frame, names every reject with a known reason, and every trade either fails checkTrade with a
 * known reason (the processor rejects it) or is a trade the worker's decoder reads back as it is.
 */

/** The text frames a venue sent in a capture: `<ts>: <frame>` lines, or cryptofeed's `recv` records. */
function capturedFrames(...parts: string[]): string[] {
  const text = readFileSync(sharedData(...parts), 'utf8');
  const frames: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('{')) {
      const r = JSON.parse(line) as { t?: string; data?: unknown };
      if (r.t === 'recv' && typeof r.data === 'string') frames.push(r.data);
      continue;
    }
    const m = /^\d+(?:\.\d+)?: (.*)$/.exec(line);
    if (m) frames.push(m[1] as string);
  }
  return frames;
}

const VENUES: ReadonlyArray<{ venue: LiveVenue; symbols: string[]; captures: string[][] }> = [
  {
    venue: 'binance',
    symbols: ['NKNUSDT', 'BLZETH', 'LRCBTC', 'RUNEEUR', 'BTCUSDT'],
    captures: [
      ['binance-ws-captures', 'cryptofeed_BINANCE.ws.1.0'],
      ['venue-ws-captures', 'binance_spot_aggTrade_kline.jsonl'],
      ['venue-ws-captures', 'binance_us_aggTrade_kline.jsonl'],
    ],
  },
  {
    venue: 'binance-futures',
    symbols: ['SUSHIUSDT', 'AKROUSDT', 'KEEPUSDT', 'CTKUSDT', 'BTCUSDT'],
    captures: [
      ['binance-ws-captures', 'cryptofeed_BINANCE_FUTURES.ws.1.0'],
      ['venue-ws-captures', 'binance_futures_aggTrade_kline.jsonl'],
    ],
  },
  {
    venue: 'coinbase',
    symbols: ['BTC-USD', 'ETH-USD', 'BAND-GBP'],
    captures: [
      ['venue-ws-captures', 'coinbase_exchange_matches_2021.txt'],
      ['venue-ws-captures', 'coinbase_advanced_market_trades_candles.jsonl'],
    ],
  },
  {
    venue: 'kraken',
    symbols: ['XBT/USD', 'XMR/USD', 'ETH/CHF', 'WAVES/EUR', 'ADA/XBT'],
    captures: [
      ['venue-ws-captures', 'kraken_v1_trade.jsonl'],
      ['venue-ws-captures', 'kraken_v1_trade_2021_ws48.txt'],
    ],
  },
  {
    venue: 'okx',
    symbols: ['BTC-USDT', 'UNI-USD-SWAP', 'BTC-USD-220527'],
    captures: [
      ['venue-ws-captures', 'okx_v5_trades.jsonl'],
      ['venue-ws-captures', 'okx_v5_trades_2022_master.txt'],
    ],
  },
  {
    venue: 'bybit',
    symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT', 'BCHUSDT'],
    captures: [
      ['venue-ws-captures', 'bybit_v5_publicTrade_kline.jsonl'],
      ['venue-ws-captures', 'bybit_v2_trade_2021_linear.txt'],
    ],
  },
];

const KNOWN = new Set<RejectReason>(REJECT_REASONS);

/** Feeds one frame; checks the invariants; returns the trades that pass checkTrade. */
function parseChecked(adapter: VenueAdapter, frame: string, receiveTime: number): Trade[] {
  const trades: Trade[] = [];
  const rejects: RejectReason[] = [];
  const sink: ParseOutput = { trade: (t) => trades.push(t), reject: (r) => rejects.push(r) };
  adapter.parse(frame, receiveTime, sink);
  // Bounded: nothing a frame holds can make more outputs than it has characters.
  expect(trades.length + rejects.length).toBeLessThanOrEqual(frame.length + 1);
  for (const r of rejects) expect(KNOWN.has(r)).toBe(true);
  const good: Trade[] = [];
  for (const t of trades) {
    const reason = checkTrade(t);
    if (reason !== undefined) {
      expect(KNOWN.has(reason)).toBe(true);
      continue;
    }
    // What ingest would produce, the worker reads back whole: no data error at the far end.
    const r = tradeRecord(t);
    expect(decodeTrades(r.value, r.headers)).toEqual([t]);
    good.push(t);
  }
  return good;
}

/** One edit of a frame: what a broken proxy, a truncated read or a hostile peer makes of it. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), with: fc.string({ maxLength: 8 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    with: fc.constantFrom(
      '\\u0000',
      '\u0000',
      '"',
      '}',
      ']',
      ',',
      '-1',
      '1e308',
      'null',
      '[]',
      '{}',
      '"\\ud800"',
      '99999999999999999999',
      '\u2028',
      '\\n',
    ),
  }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 50 }) }),
  // A value of the frame (an id, a price, a time, a symbol) replaced by another.
  fc.record({
    kind: fc.constant('value' as const),
    index: fc.nat(),
    with: fc.constantFrom(
      '"123\\u0000"',
      '"\\u0000"',
      '""',
      '0',
      '-5',
      '"1e400"',
      '4102444800000',
      '"4102444800000"',
      '1.5',
      'true',
      'null',
      '"BTC\\u0000USDT"',
      `"${'9'.repeat(300)}"`,
      '{"a":[[[[[[]]]]]]}',
    ),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(frame: string, m: Mutation): string {
  const at = (n: number) => (frame.length === 0 ? 0 : n % (frame.length + 1));
  switch (m.kind) {
    case 'truncate':
      return frame.slice(0, at(m.at));
    case 'replace':
      return frame.slice(0, at(m.at)) + m.with + frame.slice(at(m.at) + m.with.length);
    case 'insert':
      return frame.slice(0, at(m.at)) + m.with + frame.slice(at(m.at));
    case 'repeat': {
      const s = at(m.at);
      const piece = frame.slice(s, s + 40);
      return frame.slice(0, s) + piece.repeat(m.times) + frame.slice(s);
    }
    case 'value': {
      // The n-th JSON scalar value (after a colon).
      const re = /:("(?:[^"\\]|\\.)*"|-?[\d.eE+-]+|true|false|null)/g;
      const found = [...frame.matchAll(re)];
      if (found.length === 0) return frame;
      const hit = found[m.index % found.length] as RegExpMatchArray;
      const start = (hit.index as number) + 1;
      return frame.slice(0, start) + m.with + frame.slice(start + (hit[1] as string).length);
    }
  }
}

describe('venue adapters under hostile input (fuzz)', () => {
  for (const v of VENUES) {
    describe(v.venue, () => {
      const frames = v.captures.flatMap((c) => capturedFrames(...c));
      const adapter = createAdapter(v.venue, { symbols: v.symbols, restUrl: '' });
      // Later than every captured trade, so that no real trade is held future-dated.
      const receiveTime = Date.UTC(2030, 0, 1);

      it('reads the real captures without throwing', () => {
        expect(frames.length).toBeGreaterThan(0);
        for (const f of frames) parseChecked(adapter, f, receiveTime);
      });

      it('any mutation of a real frame: no throw, bounded output, every reject with a known reason', () => {
        fc.assert(
          fc.property(fc.constantFrom(...frames), fc.array(mutation, { minLength: 1, maxLength: 4 }), (frame, ms) => {
            let f = frame;
            for (const m of ms) f = mutate(f, m);
            parseChecked(adapter, f, receiveTime);
          }),
          { numRuns: 1_500 },
        );
      });

      it('arbitrary text and JSON: no throw, bounded output', () => {
        fc.assert(
          fc.property(
            fc.oneof(
              fc.string({ maxLength: 200 }),
              fc.json({ maxDepth: 4 }),
              fc.string({ unit: 'binary', maxLength: 100 }),
            ),
            (f) => {
              parseChecked(adapter, f, receiveTime);
            },
          ),
          { numRuns: 1_000 },
        );
      });
    });
  }
});
