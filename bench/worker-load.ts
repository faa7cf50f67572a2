import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { MarketSimulator, type SimMarket } from '../internal/ingest/simulator.js';
import { createKafkaProducer } from '../internal/log/kafka-producer.js';
import { recordsByMarket } from '../internal/log/trade-batch.js';
import type { Trade } from '../internal/market/trade.js';
import { silentLogger } from '../internal/observe/logger.js';
import { createRegistry } from '../internal/observe/metrics.js';

/**
 * The load side of bench/worker.bench.ts's latency scenario, run in its own thread so that
 * producing does not delay the main thread, which timestamps the NATS updates as they arrive.
 * It produces simulated trades to Kafka at a fixed rate, each stamped with the wall-clock time
 * of its send() call (eventTime and receiveTime, whole ms; the exact stamp is kept here by
 * market and trade id and handed back at the end).
 */

/** 1,000 markets in five price profiles, from ~65,000 with 0.00001 lots to ~0.00002 with whole lots. */
export function benchMarkets(prefix: string, count: number): SimMarket[] {
  const profiles = [
    { startPrice: '65000.00', tickSize: '0.01', lotSize: '0.00001' },
    { startPrice: '3500.00', tickSize: '0.01', lotSize: '0.0001' },
    { startPrice: '150.000', tickSize: '0.001', lotSize: '0.001' },
    { startPrice: '0.5000', tickSize: '0.0001', lotSize: '0.1' },
    { startPrice: '0.00002000', tickSize: '0.00000001', lotSize: '1' },
  ] as const;
  return Array.from({ length: count }, (_, i) => ({
    market: `${prefix}${i}-USDT`,
    ...(profiles[i % profiles.length] as (typeof profiles)[number]),
  }));
}

export interface LoadConfig {
  readonly kind: 'worker-bench-load';
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly markets: readonly SimMarket[];
  readonly seed: number;
  readonly lingerMs: number;
}

export type LoadCommand =
  | { readonly type: 'phase'; readonly rate: number; readonly warmupMs: number; readonly measureMs: number }
  | { readonly type: 'finish' };

export type LoadReply =
  | { readonly type: 'ready' }
  | {
      readonly type: 'phase-done';
      readonly rate: number;
      readonly start: number;
      readonly measureFrom: number;
      readonly end: number;
      readonly sent: number;
      /** Most trades the sender was behind its schedule at any tick. */
      readonly maxBehind: number;
      /**
       * Milliseconds from each send() in the measured window to its acknowledgement by Kafka,
       * ascending: the producer's and the broker's share of the latency, queueing in kafkajs included.
       */
      readonly acks: Float64Array;
    }
  | { readonly type: 'stamps'; readonly stamps: Float64Array[]; readonly counts: number[] }
  | { readonly type: 'error'; readonly message: string };

function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

async function runLoad(config: LoadConfig): Promise<void> {
  const port = parentPort!;
  const producer = await createKafkaProducer({
    brokers: config.brokers,
    clientId: 'bench-worker-load',
    logger: silentLogger(),
    registry: createRegistry({}, false),
    lingerMs: config.lingerMs,
  });
  const sim = new MarketSimulator({ markets: config.markets, seed: config.seed, startTime: Date.UTC(2024, 0, 1) });
  const index = new Map(config.markets.map((m, i) => [m.market, i]));
  // 32 MB of stamps to start with whatever the market count (they grow by doubling).
  const initial = Math.max(64, Math.floor(4_194_304 / config.markets.length));
  const stamps = config.markets.map(() => new Float64Array(initial));
  const counts = config.markets.map(() => 0);
  let failure: unknown;

  const stamp = (market: number, id: number, at: number): void => {
    let arr = stamps[market] as Float64Array;
    if (id >= arr.length) {
      const grown = new Float64Array(Math.max(id + 1, arr.length * 2));
      grown.set(arr);
      stamps[market] = grown;
      arr = grown;
    }
    arr[id] = at;
    if (id > (counts[market] as number)) counts[market] = id;
  };

  const phase = async (rate: number, warmupMs: number, measureMs: number) => {
    const pending = new Set<Promise<void>>();
    const start = wallNow();
    const measureFrom = start + warmupMs;
    const end = measureFrom + measureMs;
    let sent = 0;
    let maxBehind = 0;
    const acks: number[] = [];
    for (;;) {
      const now = wallNow();
      if (now >= end || failure !== undefined) break;
      const due = Math.floor(((now - start) * rate) / 1000);
      const n = due - sent;
      if (n > 0) {
        if (n > maxBehind) maxBehind = n;
        const trades: Trade[] = new Array(n);
        const at = wallNow();
        const ms = Math.floor(at);
        for (let i = 0; i < n; i++) {
          const t = sim.next();
          stamp(index.get(t.market) as number, Number(t.tradeId), at);
          trades[i] = { ...t, eventTime: ms, receiveTime: ms };
        }
        sent += n;
        // As ingest's log writer writes a send of them: the trades of one market in one record.
        const p = producer.send(config.topic, recordsByMarket(trades)).then(
          () => {
            if (at >= measureFrom) acks.push(wallNow() - at);
          },
          (err: unknown) => {
            failure ??= err;
          },
        );
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
    if (failure !== undefined) throw failure;
    return { start, measureFrom, end, sent, maxBehind, acks: Float64Array.from(acks).sort() };
  };

  port.on('message', (cmd: LoadCommand) => {
    if (cmd.type === 'phase') {
      phase(cmd.rate, cmd.warmupMs, cmd.measureMs).then(
        (r) => port.postMessage({ type: 'phase-done', rate: cmd.rate, ...r } satisfies LoadReply),
        (err: unknown) => port.postMessage({ type: 'error', message: String(err) } satisfies LoadReply),
      );
    } else {
      void producer.close().finally(() => {
        const trimmed = stamps.map((s, i) => s.slice(0, (counts[i] as number) + 1));
        port.postMessage(
          { type: 'stamps', stamps: trimmed, counts } satisfies LoadReply,
          trimmed.map((s) => s.buffer),
        );
        port.close();
      });
    }
  });
  port.postMessage({ type: 'ready' } satisfies LoadReply);
}

if (!isMainThread && (workerData as LoadConfig | undefined)?.kind === 'worker-bench-load') {
  runLoad(workerData as LoadConfig).catch((err: unknown) => {
    parentPort?.postMessage({ type: 'error', message: String(err) } satisfies LoadReply);
  });
}
