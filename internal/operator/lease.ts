import { type CoordinationV1Api, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from '../observe/logger.js';
import { ConfigError } from '../runtime/errors.js';
import { statusOf } from './kube-errors.js';

/**
 * Leader election on a coordination.k8s.io/v1 Lease, the way client-go's leaderelection package does it:
 *
 * - A candidate reads the Lease. It may take it when nobody holds it, or when the holder's record has
 *   not changed for `leaseDurationSeconds` as measured on the candidate's own clock since it last saw
 *   the record change (no clock comparison between machines).
 * - Every write is a replace carrying the resourceVersion that was read, so two candidates that race
 *   for an expired Lease cannot both win: the API server refuses the second with 409 Conflict.
 * - The leader renews every `retryPeriodMs`. When it has not renewed for `renewDeadlineMs` (which is
 *   shorter than the lease duration), or sees another holder, it stops leading: its work is aborted
 *   before anyone else can take the Lease.
 * - Aborting `run`'s signal stops the leader's work, waits for it, then releases the Lease (empty
 *   holder, duration 1 s) so that a standby takes over at its next retry instead of after expiry.
 */
export type LeaseApi = Pick<
  CoordinationV1Api,
  'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'
>;

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  /** Unique per candidate (the pod name). */
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export interface LeaderElectionDeps {
  readonly api: LeaseApi;
  readonly logger: Logger;
  readonly options: LeaderElectionOptions;
  /**
   * Called on becoming leader. `signal` aborts when leadership ends; the returned promise should settle
   * once the leader's work has stopped (the Lease is released only after it has, on shutdown).
   */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called after the leader's work was told to stop (and, on shutdown, has stopped). */
  readonly onStoppedLeading?: () => void;
  /** Called whenever the observed holder changes ('' when nobody holds the Lease). */
  readonly onNewLeader?: (identity: string) => void;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface LeaderElector {
  readonly isLeader: boolean;
  /** Contends, leads, and contends again after losing the Lease, until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
}

/** client-go's JitterFactor for the acquire loop. */
const JITTER = 1.2;
/** How long shutdown waits for the leader's work before releasing the Lease anyway. */
const STOP_WAIT_MS = 10_000;

export function defaultLeaseOptions(
  base: Pick<LeaderElectionOptions, 'namespace' | 'name' | 'identity'>,
): LeaderElectionOptions {
  return { ...base, leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
}

export function createLeaderElector(deps: LeaderElectionDeps): LeaderElector {
  const { api, options } = deps;
  const log = deps.logger.child({ component: 'lease', lease: options.name, identity: options.identity });
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const leaseMs = options.leaseDurationSeconds * 1000;
  if (!Number.isInteger(options.leaseDurationSeconds) || options.leaseDurationSeconds < 1) {
    throw new ConfigError('leaseDurationSeconds must be a positive integer');
  }
  if (!(options.renewDeadlineMs < leaseMs))
    throw new ConfigError('renewDeadline must be shorter than the lease duration');
  if (!(options.retryPeriodMs * JITTER < options.renewDeadlineMs)) {
    throw new ConfigError('renewDeadline must exceed retryPeriod times the jitter factor (1.2)');
  }

  let leader = false;
  // The last record seen and when (on our clock) we saw it change: expiry is judged from these.
  let observedRecord = '';
  let observedAt = 0;
  let observedHolder: string | null = null;
  let observedDurationMs = leaseMs;

  function observe(lease: V1Lease): void {
    const spec = lease.spec ?? {};
    // renewTime/acquireTime come back as strings (the client does not parse MicroTime); JSON treats both alike.
    const record = JSON.stringify([spec.holderIdentity ?? '', spec.renewTime, spec.acquireTime, spec.leaseTransitions]);
    if (record !== observedRecord) {
      observedRecord = record;
      observedAt = now();
      observedDurationMs = (spec.leaseDurationSeconds ?? options.leaseDurationSeconds) * 1000;
    }
    const holder = spec.holderIdentity ?? '';
    if (holder !== observedHolder) {
      observedHolder = holder;
      log.info({ holder }, 'lease holder observed');
      deps.onNewLeader?.(holder);
    }
  }

  /** One attempt to take or keep the Lease; resolves true when we hold it afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const at = new V1MicroTime(now());
    let current: V1Lease;
    try {
      current = await api.readNamespacedLease({ name: options.name, namespace: options.namespace });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      const body: V1Lease = {
        metadata: { name: options.name, namespace: options.namespace },
        spec: {
          holderIdentity: options.identity,
          leaseDurationSeconds: options.leaseDurationSeconds,
          acquireTime: at,
          renewTime: at,
          leaseTransitions: 0,
        },
      };
      try {
        observe(await api.createNamespacedLease({ namespace: options.namespace, body }));
        return true;
      } catch (createErr) {
        if (statusOf(createErr) === 409) return false;
        throw createErr;
      }
    }
    observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const mine = holder === options.identity;
    if (holder !== '' && !mine && observedAt + observedDurationMs > now()) return false;
    const body: V1Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: options.identity,
        leaseDurationSeconds: options.leaseDurationSeconds,
        acquireTime: mine && spec.acquireTime ? new V1MicroTime(new Date(spec.acquireTime).getTime()) : at,
        renewTime: at,
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      observe(await api.replaceNamespacedLease({ name: options.name, namespace: options.namespace, body }));
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  }

  async function release(): Promise<void> {
    try {
      const current = await api.readNamespacedLease({ name: options.name, namespace: options.namespace });
      if (current.spec?.holderIdentity !== options.identity) return;
      const at = new V1MicroTime(now());
      const body: V1Lease = {
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: at,
          renewTime: at,
        },
      };
      await api.replaceNamespacedLease({ name: options.name, namespace: options.namespace, body });
      log.info('lease released');
    } catch (err) {
      log.warn({ err }, 'lease release failed; standby takes over after expiry');
    }
  }

  /** An attempt bounded by `ms`: a hung API call counts as a failure instead of blocking the loop. */
  async function attempt(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(1, ms));
    });
    try {
      return await Promise.race([
        tryAcquireOrRenew().catch((err: unknown) => {
          log.warn({ err }, 'lease attempt failed');
          return false;
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await attempt(options.renewDeadlineMs)) return !signal.aborted || (await releaseAfterAbort());
      await pause(options.retryPeriodMs * (1 + random() * JITTER), signal);
    }
    return false;
  }

  // Acquired while shutting down: give it back at once.
  async function releaseAfterAbort(): Promise<false> {
    await release();
    return false;
  }

  async function lead(signal: AbortSignal): Promise<void> {
    leader = true;
    log.info('started leading');
    const leading = new AbortController();
    const onAbort = (): void => leading.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const work = Promise.resolve()
      .then(() => deps.onStartedLeading(leading.signal))
      .then(
        () => {
          if (!leading.signal.aborted) log.warn('leader work ended on its own; stepping down');
          leading.abort(new Error('leader work ended'));
        },
        (err: unknown) => {
          log.error({ err }, 'leader work failed; stepping down');
          leading.abort(err);
        },
      );
    let lastRenew = now();
    let lost = false;
    while (!leading.signal.aborted) {
      await pause(options.retryPeriodMs, leading.signal);
      if (leading.signal.aborted) break;
      const left = options.renewDeadlineMs - (now() - lastRenew);
      if (await attempt(left)) {
        lastRenew = now();
        continue;
      }
      if (observedHolder !== null && observedHolder !== '' && observedHolder !== options.identity) {
        log.warn({ holder: observedHolder }, 'lease taken by another candidate; stopping leading');
        lost = true;
        leading.abort(new Error('lease lost'));
      } else if (now() - lastRenew >= options.renewDeadlineMs) {
        log.warn({ sinceRenewMs: now() - lastRenew }, 'lease not renewed within the deadline; stopping leading');
        lost = true;
        leading.abort(new Error('renew deadline exceeded'));
      }
    }
    signal.removeEventListener('abort', onAbort);
    leader = false;
    // The work must have stopped before the Lease is released or contended for again.
    await Promise.race([work, delay(STOP_WAIT_MS)]);
    log.info({ lost }, 'stopped leading');
    deps.onStoppedLeading?.();
    // Still ours (shutdown, or the work ended): hand it over now rather than after expiry.
    if (!lost) await release();
  }

  return {
    get isLeader() {
      return leader;
    },
    async run(signal: AbortSignal): Promise<void> {
      while (!signal.aborted) {
        if (await acquire(signal)) await lead(signal);
        if (!signal.aborted) await pause(options.retryPeriodMs, signal);
      }
    },
  };
}

/** Sleeps `ms`, or less when `signal` aborts; never rejects. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
