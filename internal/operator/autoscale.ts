/**
 * Autoscaling of the worker Deployment from sustained lag and backpressure (docs/OPERATOR.md,
 * Autoscaling). Pure: the caller samples the workers' reports and the Deployment's replica count,
 * and applies what this decides.
 *
 * Pressure is any of: a partition held back by its owner (paused), total lag above `lagHigh`,
 * or, with `targetRatePerWorker`, more input than the replicas are sized for. Pressure held for
 * `upAfterMs` adds one replica; calm (no pressure, lag under a tenth of `lagHigh`, and with a
 * target rate, input that fits one replica fewer) held for `downAfterMs` removes one. After any
 * change, by this autoscaler or anyone else, nothing happens for `cooldownMs`, and both clocks
 * restart with the first sample after it: the new replicas need time to take their partitions and drain the lag before their
 * effect can be judged. One step at a time, because a step moves partitions, and each move
 * pauses a partition for a moment.
 */
export interface AutoscaleOptions {
  readonly min: number;
  readonly max: number;
  /** Total lag (records) above which the workers are behind. */
  readonly lagHigh: number;
  readonly upAfterMs: number;
  readonly downAfterMs: number;
  readonly cooldownMs: number;
  /** Trades per second one worker should carry; absent: sized by lag and backpressure alone. */
  readonly targetRatePerWorker?: number;
  /** More replicas than partitions would idle: the partition count caps `max`. */
  readonly partitionCount: number;
}

export interface AutoscaleSample {
  readonly at: number;
  /** The Deployment's desired replicas (spec.replicas). */
  readonly replicas: number;
  /** Sum of the partitions' lags as their owners report them. */
  readonly lag: number;
  readonly paused: number;
  /** Sum of the partitions' measured input rates (trades/s). */
  readonly rate: number;
}

export interface AutoscaleDecision {
  readonly replicas: number;
  readonly reason: 'below-min' | 'above-max' | 'backpressure' | 'lag' | 'rate' | 'calm';
}

export function validateAutoscaleOptions(o: AutoscaleOptions): void {
  if (!Number.isInteger(o.min) || o.min < 1) throw new RangeError('autoscale min must be an integer >= 1');
  if (!Number.isInteger(o.max) || o.max < o.min) throw new RangeError('autoscale max must be an integer >= min');
  if (!(o.lagHigh > 0)) throw new RangeError('autoscale lagHigh must be > 0');
  for (const k of ['upAfterMs', 'downAfterMs', 'cooldownMs'] as const) {
    if (!(o[k] >= 0)) throw new RangeError(`autoscale ${k} must be >= 0`);
  }
  if (o.targetRatePerWorker !== undefined && !(o.targetRatePerWorker > 0)) {
    throw new RangeError('autoscale targetRatePerWorker must be > 0');
  }
}

export class Autoscaler {
  private lastReplicas: number | undefined;
  private changedAt = Number.NEGATIVE_INFINITY;
  private pressureSince: number | undefined;
  private calmSince: number | undefined;
  private readonly ceiling: number;

  constructor(private readonly options: AutoscaleOptions) {
    validateAutoscaleOptions(options);
    this.ceiling = Math.max(options.min, Math.min(options.max, options.partitionCount));
  }

  /** The replica count to set now, or undefined to leave it. */
  observe(s: AutoscaleSample): AutoscaleDecision | undefined {
    const o = this.options;
    if (this.lastReplicas !== undefined && s.replicas !== this.lastReplicas) this.restart(s.at);
    this.lastReplicas = s.replicas;
    if (s.replicas < o.min) return this.decide(s.at, o.min, 'below-min');
    if (s.replicas > this.ceiling) return this.decide(s.at, this.ceiling, 'above-max');

    const sized = o.targetRatePerWorker === undefined ? undefined : Math.ceil(s.rate / o.targetRatePerWorker);
    const reason: AutoscaleDecision['reason'] | undefined =
      s.paused > 0
        ? 'backpressure'
        : s.lag > o.lagHigh
          ? 'lag'
          : sized !== undefined && sized > s.replicas
            ? 'rate'
            : undefined;
    const calm = reason === undefined && s.lag <= o.lagHigh / 10 && (sized === undefined || sized < s.replicas);
    this.pressureSince = reason === undefined ? undefined : (this.pressureSince ?? s.at);
    this.calmSince = calm ? (this.calmSince ?? s.at) : undefined;
    if (s.at - this.changedAt < o.cooldownMs) return undefined;

    if (reason !== undefined && s.replicas < this.ceiling && s.at - (this.pressureSince ?? s.at) >= o.upAfterMs) {
      return this.decide(s.at, s.replicas + 1, reason);
    }
    if (calm && s.replicas > o.min && s.at - (this.calmSince ?? s.at) >= o.downAfterMs) {
      return this.decide(s.at, s.replicas - 1, 'calm');
    }
    return undefined;
  }

  private decide(at: number, replicas: number, reason: AutoscaleDecision['reason']): AutoscaleDecision {
    this.lastReplicas = replicas;
    this.restart(at);
    return { replicas, reason };
  }

  private restart(at: number): void {
    this.changedAt = at;
    this.pressureSince = undefined;
    this.calmSince = undefined;
  }
}

/** Makes the autoscaler of the worker replica count. */
export function createAutoscaler(options: AutoscaleOptions): Autoscaler {
  return new Autoscaler(options);
}
