import { describe, expect, it } from 'vitest';
import type { LogProducer, OutgoingRecord } from '../log/log.js';
import { sampleTrade } from '../log/record-testing.js';
import { decodeTrades } from '../log/trade-batch.js';
import { InputError } from '../runtime/errors.js';
import { createLogWriter } from './log-writer.js';
import { DEFAULT_TOPICS } from './topics.js';

class Sends implements LogProducer {
  readonly calls: Array<{ topic: string; records: readonly OutgoingRecord[] }> = [];
  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    this.calls.push({ topic, records });
  }
  async close(): Promise<void> {}
}

const trade = (symbol: string, id: number) => ({ ...sampleTrade, symbol, tradeId: String(id) });

describe('LogWriter', () => {
  it("writes each market's trades of a send as one record, in order, a lone trade as trade.v1", async () => {
    const producer = new Sends();
    const writer = createLogWriter({ producer, topics: DEFAULT_TOPICS, batchSize: 5 });
    for (const t of [trade('A', 1), trade('B', 1), trade('A', 2), trade('A', 3), trade('C', 1)]) writer.trade(t);
    writer.trade(trade('A', 4));
    await writer.flush();
    expect(producer.calls.map((c) => c.records.map((r) => [r.key, r.headers?.['tm-schema']]))).toEqual([
      [
        ['binance-futures:A', 'trade-batch.v1'],
        ['binance-futures:B', 'trade.v1'],
        ['binance-futures:C', 'trade.v1'],
      ],
      [['binance-futures:A', 'trade.v1']],
    ]);
    const a = producer.calls.flatMap((c) => c.records.filter((r) => r.key === 'binance-futures:A'));
    expect(a.flatMap((r) => decodeTrades(r.value, r.headers)).map((t) => t.tradeId)).toEqual(['1', '2', '3', '4']);
  });

  it('a trade no record can hold fails the writer (the owner stops) instead of throwing from a timer', async () => {
    const writer = createLogWriter({ producer: new Sends(), topics: DEFAULT_TOPICS });
    writer.trade(trade('x'.repeat(300), 1));
    await expect(writer.flush()).rejects.toBeInstanceOf(InputError);
    expect(() => writer.trade(trade('A', 1))).toThrow(InputError);
  });
});
