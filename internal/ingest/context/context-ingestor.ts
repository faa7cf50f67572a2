import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { LogProducer, OutgoingRecord } from '../../log/log.js';
import { TickmeshError } from '../../runtime/errors.js';
import { createRequestBudget } from '../../verify/request-budget.js';
import { ContextMetrics } from './metrics.js';
import { type ContextReject, type ContextTopics, contextRejectRecord, excerpt } from './records.js';
import { SeenKeys } from './seen-keys.js';
import type { ContextSource } from './source.js';
import { createSourceHttp } from './source-http.js';

export interface ContextIngestorDeps {
  readonly sources: readonly ContextSource[];
  readonly producer: LogProducer;
  readonly topics: ContextTopics;
  readonly logger: Logger;
  readonly registry: Registry;
  /** What was appended before (readSeenKeys); a fresh set when omitted. */
  readonly seen?: SeenKeys;
  readonly fetch?: typeof fetch;
  readonly clock?: () => number;
  /** Retry tuning of every source's HTTP (tests shorten the waits). */
  readonly retry?: { readonly maxAttempts?: number; readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** Largest answer a source reads (source-http.ts); default 8 MiB. */
  readonly maxBytes?: number;
}

export interface ContextIngestor {
  start(signal: AbortSignal): void;
  /** Stops polling, lets the polls in flight append what they read, and resolves. */
  drain(): Promise<void>;
  /** Stops at once. */
  close(): Promise<void>;
  readonly metrics: ContextMetrics;
}

/**
 * Runs every context source on its own schedule: poll, drop what was appended before, append the
 * new records to the source kind's topic and the rejects to the context rejects topic (each with
 * its reason), and keep the stale-feed gauge. A poll that fails after its retries is counted and
 * logged; the next one comes at the source's interval. Nothing here retries forever or buffers
 * more than one poll's records per source.
 */
export function createContextIngestor(deps: ContextIngestorDeps): ContextIngestor {
  const metrics = new ContextMetrics(deps.registry);
  const seen = deps.seen ?? new SeenKeys();
  const clock = deps.clock ?? Date.now;
  const stop = new AbortController();
  const hard = new AbortController();
  const loops: Promise<void>[] = [];
  const names = new Set<string>();
  for (const s of deps.sources) {
    if (names.has(s.name)) throw new TickmeshError('TM_CONFIG', `context source ${s.name} is configured twice`);
    names.add(s.name);
  }

  async function run(source: ContextSource, signal: AbortSignal): Promise<void> {
    const log = deps.logger.child({ source: source.name, kind: source.kind });
    const budget = createRequestBudget(source.requestsPerMinute / 60, clock);
    const http = createSourceHttp({
      budget,
      fetch: deps.fetch,
      signal: hard.signal,
      ...deps.retry,
      maxBytes: deps.maxBytes,
      onRequest: (status) => metrics.requests.inc({ source: source.name, status: String(status) }),
      onRetry: (err, attempt, delayMs) =>
        log.warn({ err: (err as Error).message, attempt, delayMs }, 'context request retried'),
    });
    const topic = deps.topics[source.kind];
    let lastNew = clock();
    let stale = false;
    metrics.stale.set({ source: source.name }, 0);
    metrics.lastRecord.set({ source: source.name }, 0);
    while (!signal.aborted) {
      const started = clock();
      try {
        const result = await source.poll({
          http,
          now: started,
          firstStart: !seen.any(source.name),
          signal: hard.signal,
        });
        const fresh: OutgoingRecord[] = [];
        for (const item of result.items) {
          if (seen.has(source.name, item.dedupeKey)) metrics.repeats.inc({ source: source.name });
          else fresh.push(item.record);
        }
        if (fresh.length > 0) await deps.producer.send(topic, fresh);
        // Marked seen once appended: a failed send leaves them to the next poll.
        for (const item of result.items) seen.add(source.name, item.dedupeKey);
        if (result.rejects.length > 0) await rejectAll(result.rejects);
        if (result.unmapped) metrics.unmapped.inc({ source: source.name }, result.unmapped);
        if (fresh.length > 0) {
          metrics.records.inc({ source: source.name, kind: source.kind }, fresh.length);
          lastNew = clock();
          metrics.lastRecord.set({ source: source.name }, Math.floor(lastNew / 1000));
        }
        log.debug(
          { records: fresh.length, repeats: result.items.length - fresh.length, rejects: result.rejects.length },
          'context poll done',
        );
      } catch (err) {
        if (hard.signal.aborted) return;
        metrics.pollFailures.inc({ source: source.name });
        log.warn({ err: (err as Error).message, code: (err as TickmeshError).code }, 'context poll failed');
        if (err instanceof TickmeshError && (err.code === 'TM_REST' || err.code === 'TM_TOO_LARGE')) {
          await rejectAll([
            {
              source: source.name,
              reason: err.code === 'TM_REST' ? 'http-status' : 'too-large',
              message: err.message,
              excerpt: excerpt(String(err.cause ?? '')),
              receiveTime: started,
            },
          ]).catch(() => undefined);
        }
      }
      const isStale = clock() - lastNew > source.staleAfterMs;
      if (isStale !== stale) {
        stale = isStale;
        metrics.stale.set({ source: source.name }, stale ? 1 : 0);
        if (stale) log.warn({ silentMs: clock() - lastNew, staleAfterMs: source.staleAfterMs }, 'context source stale');
        else log.info({}, 'context source fresh again');
      }
      const wait = source.intervalMs - (clock() - started);
      try {
        await sleep(Math.max(0, wait), undefined, { signal });
      } catch {
        return;
      }
    }
  }

  async function rejectAll(rejects: readonly ContextReject[]): Promise<void> {
    for (const r of rejects) {
      metrics.rejects.inc({ source: r.source, reason: r.reason });
      deps.logger.warn({ source: r.source, reason: r.reason, message: r.message }, 'context input rejected');
    }
    await deps.producer.send(deps.topics.rejects, rejects.map(contextRejectRecord));
  }

  return {
    metrics,
    start(signal) {
      const s = AbortSignal.any([signal, stop.signal]);
      signal.addEventListener('abort', () => hard.abort(signal.reason), { once: true });
      for (const source of deps.sources) loops.push(run(source, s));
    },
    async drain() {
      stop.abort();
      await Promise.allSettled(loops);
    },
    async close() {
      stop.abort();
      hard.abort(new Error('context ingestor closed'));
      await Promise.allSettled(loops);
    },
  };
}
