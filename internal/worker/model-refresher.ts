import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ModelRefresh } from '../sink/postgres-models.js';

export interface ModelRefresherDeps {
  /** One refresh of every model view; undefined when another worker holds the refresh (skipped). */
  readonly refresh: (signal: AbortSignal) => Promise<readonly ModelRefresh[] | undefined>;
  /** Time from the start of one round to the start of the next. */
  readonly everyMs: number;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly registry: Registry;
}

/**
 * Refreshes the SQL models (docs/HISTORY.md) every `everyMs` from a worker. Every worker may run
 * one: the refresh itself lets one session at a time through and the others skip their round
 * (postgres-models.ts, `ifBusy: 'skip'`), so replicas neither refresh twice nor queue up. A failed
 * round is logged and counted, and the next round tries again.
 */
export class ModelRefresher {
  private loop: Promise<void> | undefined;
  private readonly rounds: Counter<'result'>;
  private readonly lastSuccess: Gauge;
  private readonly lastDuration: Gauge;
  private readonly log: Logger;

  constructor(private readonly deps: ModelRefresherDeps) {
    this.log = deps.logger.child({ component: 'model-refresher' });
    const registers = [deps.registry];
    this.rounds = new Counter({
      name: 'tickmesh_models_refresh_rounds_total',
      help: 'Scheduled model refresh rounds by result: refreshed, skipped (another worker was refreshing), failed',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['refreshed', 'skipped', 'failed']) this.rounds.inc({ result }, 0);
    this.lastSuccess = new Gauge({
      name: 'tickmesh_models_refresh_last_success_timestamp_seconds',
      help: 'When this worker last finished refreshing the SQL models (Unix seconds)',
      registers,
    });
    this.lastDuration = new Gauge({
      name: 'tickmesh_models_refresh_duration_seconds',
      help: "How long this worker's last successful refresh of the SQL models took",
      registers,
    });
  }

  start(signal: AbortSignal): void {
    this.loop ??= this.run(signal);
  }

  /** Resolves once the loop has seen its signal abort (a refresh in flight is ended with it). */
  async close(): Promise<void> {
    await this.loop;
  }

  /** One round now; what the schedule does every `everyMs`. */
  async refreshOnce(signal: AbortSignal): Promise<'refreshed' | 'skipped' | 'failed'> {
    const { refresh, clock } = this.deps;
    const logger = this.log;
    const started = clock();
    try {
      const views = await refresh(signal);
      if (views === undefined) {
        this.rounds.inc({ result: 'skipped' });
        logger.debug('models refresh skipped: another worker is refreshing');
        return 'skipped';
      }
      const ended = clock();
      this.rounds.inc({ result: 'refreshed' });
      this.lastSuccess.set(ended / 1000);
      this.lastDuration.set((ended - started) / 1000);
      logger.info({ ms: ended - started, views }, 'models refreshed');
      return 'refreshed';
    } catch (err) {
      if (signal.aborted) return 'failed';
      this.rounds.inc({ result: 'failed' });
      logger.warn({ err }, 'models refresh failed');
      return 'failed';
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { everyMs, clock } = this.deps;
    while (!signal.aborted) {
      const started = clock();
      await this.refreshOnce(signal);
      const wait = Math.max(0, started + everyMs - clock());
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }
}

/** Makes a ModelRefresher: components are made by their create* factory. */
export function createModelRefresher(deps: ModelRefresherDeps): ModelRefresher {
  return new ModelRefresher(deps);
}
