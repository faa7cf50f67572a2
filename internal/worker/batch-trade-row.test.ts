import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actorConfig } from '../actor/config.js';
import { MarketActor } from '../actor/market-actor.js';
import { type ActorOutput, clearActorOutput, createActorOutput, type TradeOutcome } from '../actor/output.js';
import { encodeTradeBatch, TradeBatchReader } from '../log/trade-batch.js';
import type { Trade } from '../market/trade.js';
import { BatchTradeRow } from './batch-trade-row.js';

const ID = { exchange: 'binance', symbol: 'BTCUSDT', market: 'BTC-USDT' };
const START = 1_700_000_000_000;

/** Prices and sizes as venues print them, and texts the actor must refuse. */
const decimalText = fc
  .oneof(
    { weight: 8, arbitrary: fc.tuple(fc.nat(9_999_999), fc.nat(8), fc.nat(4)) },
    { weight: 1, arbitrary: fc.constantFrom('0', '0.000', '.', '', '1e5', '-1', '7.', '.5', '١', '9007199254740993') },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{1,3}\.([0-9]{15,20}[1-9]|[0-9]{1,4}0{14,20})$/) },
  )
  .map((d) => {
    if (typeof d === 'string') return d;
    const [v, decimals, zeros] = d;
    const s = String(v).padStart(decimals + 1, '0');
    const text = decimals === 0 ? s : `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}`;
    return zeros > 0 ? `${text}${decimals === 0 ? '.' : ''}${'0'.repeat(zeros)}` : text;
  });

const tradeId = fc.oneof(
  { weight: 6, arbitrary: fc.nat(2_000).map((i) => String(1_000_000_000 + i)) },
  { weight: 1, arbitrary: fc.constantFrom('0', '007', '1234567890123456', 'a-1', 'x') },
);

const entry = fc.record({
  tradeId,
  price: decimalText,
  size: decimalText,
  sell: fc.boolean(),
  gap: fc.nat(5_000),
  back: fc.nat(200_000),
  late: fc.nat(20),
  tradeCount: fc.option(fc.integer({ min: 2, max: 50 }), { nil: undefined }),
  simulated: fc.boolean(),
});

function summary(outcome: TradeOutcome, out: ActorOutput): string {
  return JSON.stringify({ outcome, out }, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

describe('BatchTradeRow', () => {
  it('feeds an actor exactly what the decoded Trade feeds it: outcomes, outputs and state (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(entry, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 8 }),
        (records) => {
          const config = actorConfig({ intervals: ['1m', '5m'] });
          const byTrade = new MarketActor(ID, config);
          const byRow = new MarketActor(ID, config);
          const reader = new TradeBatchReader();
          const row = new BatchTradeRow();
          const outA = createActorOutput();
          const outB = createActorOutput();
          let time = START;
          for (const entries of records) {
            const trades: Trade[] = entries.map((e) => {
              time += e.gap;
              // One trade in twenty dated far back: late, or revising a closed window.
              const eventTime = e.late === 0 ? time - e.back : time;
              return {
                ...ID,
                tradeId: e.tradeId,
                price: e.price,
                size: e.size,
                side: e.sell ? 'sell' : 'buy',
                eventTime,
                receiveTime: time,
                ...(e.simulated ? { simulated: true } : {}),
                ...(e.tradeCount !== undefined ? { tradeCount: e.tradeCount } : {}),
              };
            });
            reader.read(encodeTradeBatch(trades));
            expect(reader.count).toBe(trades.length);
            for (let k = 0; k < reader.count; k++) {
              const trade = trades[k] as Trade;
              expect(reader.trade(k)).toEqual(trade);
              const a = byTrade.onTrade(trade, time, outA);
              const b = row.load(reader, k)
                ? byRow.onTradeRow(row, time, outB)
                : byRow.onTrade(reader.trade(k), time, outB);
              expect(summary(b, outB)).toBe(summary(a, outA));
              clearActorOutput(outA);
              clearActorOutput(outB);
            }
            byTrade.advance(time - 2_000, time, outA);
            byRow.advance(time - 2_000, time, outB);
            expect(summary('accepted', outB)).toBe(summary('accepted', outA));
            clearActorOutput(outA);
            clearActorOutput(outB);
          }
          expect(Buffer.from(byRow.snapshot()).equals(Buffer.from(byTrade.snapshot()))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads an entry whose price or size the actor cannot hold as not loaded', () => {
    const reader = new TradeBatchReader();
    const base = { ...ID, side: 'buy' as const, eventTime: START, receiveTime: START };
    reader.read(
      encodeTradeBatch([
        { ...base, tradeId: '1', price: '0.000', size: '1' },
        { ...base, tradeId: '2', price: '1', size: '1e5' },
        { ...base, tradeId: '3', price: '9682.19000000', size: '0.0100' },
      ]),
    );
    const row = new BatchTradeRow();
    expect(row.load(reader, 0)).toBe(false);
    expect(row.load(reader, 1)).toBe(false);
    expect(row.load(reader, 2)).toBe(true);
    expect(row).toMatchObject({
      priceValue: 968219,
      priceScale: 2,
      sizeValue: 1,
      sizeScale: 2,
      idNum: 3,
      tradeId: '3',
    });
  });
});
