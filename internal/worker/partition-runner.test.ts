import { describe, expect, it } from 'vitest';
import { actorConfig } from '../actor/config.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { ALERTS_STREAM, CANDLES_STREAM } from '../bus/subjects.js';
import type { LogRecord } from '../log/log.js';
import { MemoryLog } from '../log/memory-log.js';
import { tradeRecord } from '../log/record.js';
import type { Trade } from '../market/trade.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { MemoryCache } from '../sink/memory-cache.js';
import { createPgliteStore } from '../sink/pglite-store.js';
import { marketActorFactory } from './market-actors.js';
import { createWorkerMetrics } from './metrics.js';
import { PartitionOutputs } from './outputs.js';
import { PartitionRunner } from './partition-runner.js';

const base: Trade = {
  exchange: 'binance',
  symbol: 'BTCUSDT',
  market: 'BTC-USDT',
  tradeId: '1',
  price: '100.00',
  size: '1.0',
  side: 'buy',
  eventTime: Date.UTC(2024, 0, 1),
  receiveTime: Date.UTC(2024, 0, 1),
};

function records(trades: readonly (Trade | Uint8Array)[], from = 0): LogRecord[] {
  return trades.map((t, i) => {
    const r =
      t instanceof Uint8Array ? { key: 'binance:BTCUSDT', value: t, headers: {} } : { headers: {}, ...tradeRecord(t) };
    return { partition: 0, offset: BigInt(from + i), key: r.key, value: r.value, headers: r.headers, timestamp: 0 };
  });
}

describe('partition runner', () => {
  it('counts every record by outcome in tickmesh_worker_trades_total', async () => {
    const metrics = createWorkerMetrics(createRegistry({}, false));
    const store = await createPgliteStore();
    await store.migrate();
    const logger = silentLogger();
    const bus = new MemoryBus();
    await bus.ensureStream(CANDLES_STREAM);
    await bus.ensureStream(ALERTS_STREAM);
    const log = new MemoryLog();
    await log.admin().ensureTopic('late', 1);
    await log.admin().ensureTopic('rejected', 1);
    const outputs = new PartitionOutputs({
      bus,
      cache: new MemoryCache(),
      producer: log.producer(),
      topics: { late: 'late', rejected: 'rejected' },
      logger,
      metrics,
      clock: Date.now,
    });
    const runner = await PartitionRunner.open({
      topic: 't',
      partition: 0,
      epoch: 1,
      actors: marketActorFactory(actorConfig({ intervals: ['1m'], partialUpdates: false, allowedLatenessMs: 1_000 })),
      store,
      outputs,
      logger,
      metrics,
      clock: Date.now,
      flow: { pause() {}, resume() {} },
      config: {
        checkpointIntervalMs: 0,
        maxPendingRows: 1_000,
        mailboxCapacity: 8,
        pauseAt: 8,
        resumeAt: 0,
        outOfOrdernessMs: 0,
        idleGraceMs: 0,
        clockWatermark: false,
        liveWindowMs: 1,
      },
    });
    const signal = AbortSignal.timeout(20_000);
    const run = runner.run(signal);
    const t = (id: number, minute: number, extra: Partial<Trade> = {}): Trade => ({
      ...base,
      tradeId: String(id),
      eventTime: base.eventTime + minute * 60_000,
      ...extra,
    });
    const first = [t(1, 0), t(2, 0), t(2, 0), new Uint8Array([9, 9, 9]), t(3, 0, { price: '0' })];
    // Minute 2 closes minute 0 and passes its 1 s lateness: a trade of minute 0 is then late.
    const second = [t(4, 2), t(5, 0), t(6, 2)];
    await runner.enqueue({ topic: 't', partition: 0, records: records(first), highWatermark: 8n }, signal);
    await runner.enqueue({ topic: 't', partition: 0, records: records(second, 5), highWatermark: 8n }, signal);
    runner.stop();
    await run;
    const counts = Object.fromEntries((await metrics.trades.get()).values.map((v) => [v.labels.outcome, v.value]));
    expect(counts).toEqual({ accepted: 4, duplicate: 1, undecodable: 1, rejected: 1, late: 1 });
    expect((await store.loadCheckpoint('t', 0))?.nextOffset).toBe(8n);
    await store.close();
  }, 30_000);
});
