import type { Bus } from '../bus/bus.js';
import type { Logger } from '../observe/logger.js';
import { decodeHeartbeat, HEARTBEAT_PREFIX, type Heartbeat } from './heartbeat-message.js';
import type { LivenessSignal } from './membership.js';

/**
 * Worker heartbeats over the Bus: each worker following the operator's placement publishes
 * `tickmesh.worker.alive.<member>` every 500 ms (internal/worker/heartbeat.ts). A process that is
 * killed, hung or cut off stops beating at once, long before Kubernetes marks its pod unready
 * (if it ever does: a dead node's kubelet reports nothing).
 *
 * Times are this process's receipt times: no clock is compared between machines.
 */
/** Who beat when, as seen by this process. */
export interface HeartbeatMonitorDeps {
  readonly bus: Bus;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Every heartbeat heard, with its receipt time (the operator's load board reads them). */
  readonly onBeat?: (beat: Heartbeat, at: number) => void;
}

export class HeartbeatMonitor {
  private readonly lastHeard = new Map<string, number>();
  private startedAt: number | undefined;
  private readonly clock: () => number;

  constructor(private readonly deps: HeartbeatMonitorDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Listens until `signal` aborts. */
  start(signal: AbortSignal): void {
    this.startedAt = this.clock();
    const sub = this.deps.bus.subscribe(`${HEARTBEAT_PREFIX}.*`, { signal, capacity: 1_000 });
    void (async () => {
      for await (const msg of sub) {
        const beat = decodeHeartbeat(msg.data);
        // Not a heartbeat of ours: ignored.
        if (!beat) continue;
        const at = this.clock();
        this.lastHeard.set(beat.member, at);
        this.deps.onBeat?.(beat, at);
      }
    })().catch((err: unknown) => this.deps.logger.warn({ err }, 'heartbeat subscription ended'));
  }

  /** When `member` last beat (local ms), or undefined if never since start. */
  lastHeardAt(member: string): number | undefined {
    return this.lastHeard.get(member);
  }

  /** Time since `member` last beat; for a member never heard, time since this monitor started. */
  silentForMs(member: string): number {
    const now = this.clock();
    return now - (this.lastHeard.get(member) ?? this.startedAt ?? now);
  }
}

export interface HeartbeatLivenessOptions {
  /** A candidate silent for longer than this is dead. */
  readonly timeoutMs: number;
  /** How often verdicts are re-evaluated (a death is noticed at most this late). Default 100 ms. */
  readonly checkEveryMs?: number;
  readonly clock?: () => number;
  readonly logger: Logger;
}

/**
 * The operator's LivenessSignal from heartbeats. Of the candidates (the Ready worker pods):
 * - one heard within `timeoutMs` is alive; one heard before and silent since is dead;
 * - one never heard is alive for `timeoutMs` after it became a candidate (or after this monitor
 *   started), then dead: a worker beats from the moment it runs, before its pod turns Ready;
 * - when no candidate at all was heard within `timeoutMs`, the signal is blind (the Bus is down,
 *   or nothing beats here): every candidate is alive and Kubernetes alone decides. So a Bus
 *   outage never empties the membership, and neither does the death of the last worker.
 */
export function createHeartbeatLiveness(
  monitor: HeartbeatMonitor,
  options: HeartbeatLivenessOptions,
): LivenessSignal & { close(): void } {
  const clock = options.clock ?? Date.now;
  const log = options.logger.child({ component: 'liveness' });
  const candidateSince = new Map<string, number>();
  const listeners = new Set<() => void>();
  let lastCandidates: readonly string[] | undefined;
  let lastVerdict = '';
  let timer: NodeJS.Timeout | undefined;

  function evaluate(candidates: readonly string[]): string[] {
    const now = clock();
    const current = new Set(candidates);
    for (const m of candidateSince.keys()) if (!current.has(m)) candidateSince.delete(m);
    for (const m of candidates) if (!candidateSince.has(m)) candidateSince.set(m, now);
    const heardRecently = (m: string) => {
      const at = monitor.lastHeardAt(m);
      return at !== undefined && now - at <= options.timeoutMs;
    };
    if (!candidates.some(heardRecently)) return [...candidates];
    return candidates.filter((m) => {
      if (monitor.lastHeardAt(m) !== undefined) return heardRecently(m);
      return monitor.silentForMs(m) <= options.timeoutMs || now - (candidateSince.get(m) ?? now) <= options.timeoutMs;
    });
  }

  function alive(candidates: readonly string[]): readonly string[] {
    const result = evaluate(candidates);
    const verdict = result.join('\n');
    if (lastCandidates !== undefined && verdict !== lastVerdict) {
      const dead = candidates.filter((m) => !result.includes(m));
      if (dead.length > 0) {
        log.warn(
          { dead: dead.map((m) => ({ member: m, silentMs: monitor.silentForMs(m) })) },
          'workers silent: not members while their heartbeat is missing',
        );
      }
    }
    lastCandidates = candidates;
    lastVerdict = verdict;
    return result;
  }

  function check(): void {
    if (lastCandidates === undefined) return;
    if (evaluate(lastCandidates).join('\n') === lastVerdict) return;
    for (const l of listeners) l();
  }

  return {
    alive,
    subscribe(onChange) {
      listeners.add(onChange);
      timer ??= setInterval(check, options.checkEveryMs ?? 100);
      return () => {
        listeners.delete(onChange);
        if (listeners.size === 0) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
    close() {
      listeners.clear();
      clearInterval(timer);
      timer = undefined;
    },
  };
}

/** Makes a HeartbeatMonitor: components are made by their create* factory, never with `new` outside their file. */
export function createHeartbeatMonitor(deps: HeartbeatMonitorDeps): HeartbeatMonitor {
  return new HeartbeatMonitor(deps);
}
