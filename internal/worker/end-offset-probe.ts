import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { LogAdmin } from '../log/log.js';

export interface EndOffsetProbeDeps {
  readonly admin: Pick<LogAdmin, 'endOffsets'>;
  readonly topic: string;
  readonly worker: { observeEndOffsets(at: number, ends: ReadonlyMap<number, bigint>): void };
  readonly intervalMs: number;
  readonly clock: () => number;
  readonly logger: Logger;
}

/**
 * Reads the trades topic's end offsets from the broker every `intervalMs` and gives them to the
 * worker. A partition's lag otherwise comes from the high watermark of the batches it fetches, so
 * it stops counting exactly when it matters: a partition paused by backpressure or stuck on
 * failing commits fetches nothing, and its lag (the metric, and the heartbeat the operator's
 * autoscaler weighs) would stay where it was while the topic grows. The offsets live in
 * PostgreSQL, not in a Kafka consumer group, so no external lag exporter can see them either.
 */
export class EndOffsetProbe {
  private failures = 0;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: EndOffsetProbeDeps) {}

  start(signal: AbortSignal): void {
    this.loop ??= this.run(signal);
  }

  /** Resolves once the loop has seen its signal abort. */
  async close(): Promise<void> {
    await this.loop;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { admin, topic, worker, intervalMs, clock, logger } = this.deps;
    while (!signal.aborted) {
      try {
        const ends = await admin.endOffsets(topic);
        worker.observeEndOffsets(clock(), ends);
        if (this.failures > 0) logger.info({ topic, failures: this.failures }, 'end offsets readable again');
        this.failures = 0;
      } catch (err) {
        // The next round tries again; the lag keeps its last value meanwhile. Logged once per outage.
        if (this.failures === 0) logger.warn({ err, topic }, 'end offsets not readable');
        this.failures += 1;
      }
      await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
    }
  }
}

/** Makes an EndOffsetProbe: components are made by their create* factory. */
export function createEndOffsetProbe(deps: EndOffsetProbeDeps): EndOffsetProbe {
  return new EndOffsetProbe(deps);
}
