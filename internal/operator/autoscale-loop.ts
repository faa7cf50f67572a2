import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observe/logger.js';
import type { Autoscaler } from './autoscale.js';
import type { DeploymentScale } from './deployment-scale.js';
import type { PartitionReport } from './load-board.js';
import type { OperatorMetrics } from './metrics.js';

export interface AutoscaleLoopDeps {
  readonly scale: DeploymentScale;
  readonly autoscaler: Autoscaler;
  /** The workers' latest per-partition reports (lag, paused, rate). */
  readonly reports: (now: number) => readonly PartitionReport[];
  readonly logger: Logger;
  readonly metrics: OperatorMetrics;
  /** Sampling period. */
  readonly everyMs: number;
  readonly now?: () => number;
}

/**
 * The leader's autoscaling loop, until `signal` aborts: every `everyMs`, read the Deployment's
 * replicas, sum the workers' reports into one sample, and apply what the Autoscaler decides
 * (over the scale read, so a concurrent change by a person wins). A failed round is logged and
 * retried at the next period: autoscaling is advisory, the placement does not depend on it.
 */
export async function runAutoscaleLoop(deps: AutoscaleLoopDeps, signal: AbortSignal): Promise<void> {
  const log = deps.logger.child({ component: 'autoscaler', deployment: deps.scale.name });
  const now = deps.now ?? Date.now;
  while (!signal.aborted) {
    try {
      const seen = await deps.scale.read();
      const at = now();
      let lag = 0;
      let paused = 0;
      let rate = 0;
      for (const r of deps.reports(at)) {
        lag += r.lag ?? 0;
        rate += r.rate ?? 0;
        if (r.paused) paused += 1;
      }
      deps.metrics.autoscaleReplicas.set(seen.replicas);
      const decision = deps.autoscaler.observe({ at, replicas: seen.replicas, lag, paused, rate });
      if (decision && decision.replicas !== seen.replicas && !signal.aborted) {
        const why = `${decision.reason}: lag ${lag} records, ${paused} paused, ${Math.round(rate)} trades/s`;
        if (await deps.scale.set(seen, decision.replicas)) {
          deps.metrics.autoscaleChanges.inc({ reason: decision.reason });
          deps.metrics.autoscaleReplicas.set(decision.replicas);
          log.info(
            { from: seen.replicas, to: decision.replicas, reason: decision.reason, lag, paused, rate },
            'worker deployment scaled',
          );
          await deps.scale
            .recordScaled(seen, decision.replicas, why)
            .catch((err: unknown) => log.warn({ err }, 'recording the scale event failed'));
        } else {
          log.info({ from: seen.replicas, to: decision.replicas }, 'deployment changed meanwhile; scaling skipped');
        }
      }
    } catch (err) {
      log.warn({ err }, 'autoscaling round failed; retrying');
    }
    await sleep(deps.everyMs, undefined, { signal }).catch(() => undefined);
  }
}
