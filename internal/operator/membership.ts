import { CoreV1Api, type KubeConfig, ListWatch, type V1Pod, Watch } from '@kubernetes/client-node';
import type { Logger } from '../observe/logger.js';
import { UnavailableError } from '../runtime/errors.js';
import { retry } from '../runtime/retry.js';
import { WATCH_RESTART } from '../runtime/retry-policies.js';

/**
 * Membership: the worker pods that may own partitions. A member is a pod matching the label selector
 * that is Ready (condition Ready=True) and not terminating (no deletionTimestamp: a pod being deleted
 * stops getting new partitions at once, not when its container exits).
 *
 * The pods are followed through client-node's ListWatch (list, then watch from the list's
 * resourceVersion). ListWatch itself relists on 410 Gone and reconnects when the server closes the
 * stream; when a list or watch request fails (API server down, connection refused), it only reports
 * the error and stops, so this module restarts it with WATCH_RESTART's backoff. A restart resumes
 * from the last resourceVersion; if that has expired the server answers 410 and ListWatch relists,
 * reporting pods deleted meanwhile.
 */
export interface MembershipChange {
  /** Sorted pod names of the current members. */
  readonly members: readonly string[];
  readonly joined: readonly string[];
  readonly left: readonly string[];
}

/**
 * A faster liveness signal (heartbeats over NATS, internal/operator/liveness.ts): a Ready pod the
 * signal declares dead is dropped before Kubernetes notices. `subscribe` calls back whenever its
 * verdicts may have changed.
 */
export interface LivenessSignal {
  /** The candidates (Ready pods) not declared dead. */
  alive(candidates: readonly string[]): readonly string[];
  subscribe(onChange: () => void): () => void;
}

export interface MembershipDeps {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  /** e.g. `app.kubernetes.io/name=tickmesh,app.kubernetes.io/component=worker`. */
  readonly labelSelector: string;
  readonly logger: Logger;
  readonly onChange: (change: MembershipChange) => void;
  readonly liveness?: LivenessSignal;
  /** Restart backoff after a failed list/watch: first delay and cap (ms); default WATCH_RESTART. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly random?: () => number;
}

export interface Membership {
  /** Resolves after the first successful list (members() is then meaningful), or when `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
  members(): readonly string[];
  close(): Promise<void>;
}

export function isMember(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function createMembership(deps: MembershipDeps): Membership {
  const log = deps.logger.child({ component: 'membership', namespace: deps.namespace, selector: deps.labelSelector });
  const core = deps.kubeConfig.makeApiClient(CoreV1Api);
  const informer = new ListWatch<V1Pod>(
    `/api/v1/namespaces/${encodeURIComponent(deps.namespace)}/pods`,
    new Watch(deps.kubeConfig),
    () => core.listNamespacedPod({ namespace: deps.namespace, labelSelector: deps.labelSelector }),
    false,
    deps.labelSelector,
  );

  let current: readonly string[] = [];
  let stopped = true;
  const stop = new AbortController();
  /** Ends the running list/watch attempt: ListWatch reports a failed request as an event, not a rejection. */
  let watchFailed: ((err: unknown) => void) | undefined;
  let unsubscribeLiveness: (() => void) | undefined;
  let synced: (() => void) | undefined;

  function recompute(): void {
    const ready = informer
      .list(deps.namespace)
      .filter(isMember)
      .map((pod) => pod.metadata?.name ?? '')
      .filter((name) => name !== '');
    const next = [...(deps.liveness ? deps.liveness.alive(ready) : ready)].sort();
    if (next.length === current.length && next.every((m, i) => m === current[i])) return;
    const before = new Set(current);
    const after = new Set(next);
    const change: MembershipChange = {
      members: next,
      joined: next.filter((m) => !before.has(m)),
      left: current.filter((m) => !after.has(m)),
    };
    current = next;
    log.info({ members: next.length, joined: change.joined, left: change.left }, 'membership changed');
    deps.onChange(change);
  }

  informer.on('change', recompute);
  informer.on('error', (err: unknown) => {
    if (!stopped) watchFailed?.(err);
  });

  /**
   * One list/watch: resolves when the membership stops, rejects when a request fails. Once the
   * list and the watch request succeeded, a later failure restarts from the first delay.
   */
  function follow(reset: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let failed = false;
      const onStop = (): void => resolve();
      stop.signal.addEventListener('abort', onStop, { once: true });
      watchFailed = (err) => {
        failed = true;
        stop.signal.removeEventListener('abort', onStop);
        reject(new UnavailableError('the pod list/watch failed', { cause: err }));
      };
      informer.start().then(() => {
        // start() returns after the list (when one was needed) and the watch request succeeded.
        if (stopped || failed) return;
        reset();
        recompute();
        synced?.();
      }, watchFailed);
    });
  }

  return {
    async start(signal: AbortSignal): Promise<void> {
      stopped = false;
      unsubscribeLiveness = deps.liveness?.subscribe(recompute);
      signal.addEventListener('abort', () => void this.close(), { once: true });
      const ready = new Promise<void>((resolve) => {
        synced = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      void retry((_attempt, reset) => follow(reset), {
        ...WATCH_RESTART,
        ...(deps.backoff ? { initialDelayMs: deps.backoff.initialMs, maxDelayMs: deps.backoff.maxMs } : {}),
        ...(deps.random ? { random: deps.random } : {}),
        signal: stop.signal,
        retriable: () => !stopped,
        onRetry: (err, failures, delayMs) =>
          log.warn({ err: (err as Error).cause ?? err, failures, delayMs }, 'pod watch failed; restarting'),
      }).catch(() => undefined);
      await ready;
      synced = undefined;
    },
    members: () => current,
    async close(): Promise<void> {
      if (stopped) return;
      stopped = true;
      stop.abort();
      unsubscribeLiveness?.();
      await informer.stop();
    },
  };
}
