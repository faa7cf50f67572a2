import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  CoreV1Api,
  type KubeConfig,
  ListWatch,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';

/**
 * Pieces of the end-to-end tests: tickmesh processes run from source, and a kubelet played by the
 * test (no kubelet runs with test/infra/kube.sh): it runs one worker process per pod bound to its
 * Node, reports the pod Ready once the worker runs, SIGTERMs the worker when the pod is deleted and
 * confirms the deletion when the process has exited.
 */

/** One pino line of a process, with the fields it logged (`time` in Unix ms, `msg`). */
export interface LogLine {
  readonly time: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

const children = new Set<ChildProcess>();
// A test run that is interrupted must not leave workers and operators behind.
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A tickmesh process (`node --import tsx cmd/tickmesh/main.ts ...`) whose log lines are kept. */
export class Proc {
  readonly lines: LogLine[] = [];
  /** Lines that are not JSON (stderr, warnings), for failure reports. */
  readonly other: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<{ check: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();

  constructor(
    readonly name: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'cmd/tickmesh/main.ts', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        children.delete(this.child);
        resolve({ code, signal });
      }),
    );
    const onLine = (text: string) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
        if (typeof line.msg !== 'string' || typeof line.time !== 'number') throw new Error('not a log line');
      } catch {
        this.other.push(text);
        return;
      }
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.check(line)) {
          this.waiters.delete(w);
          w.resolve(line);
        }
      }
    };
    createInterface({ input: this.child.stdout! }).on('line', onLine);
    createInterface({ input: this.child.stderr! }).on('line', onLine);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** The first line (already logged or to come) that `check` accepts; fails on exit or after `ms`. */
  waitFor(what: string, check: (l: LogLine) => boolean, ms: number): Promise<LogLine> {
    const seen = this.lines.find(check);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        check,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const fail = (why: string) => {
        this.waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${this.name}: ${why} waiting for ${what}\n${this.tail()}`));
      };
      const timer = setTimeout(() => fail(`timed out after ${ms} ms`), ms);
      this.waiters.add(waiter);
      void this.exited.then(({ code, signal }) => {
        if (this.waiters.has(waiter)) fail(`exited (${signal ?? code})`);
      });
    });
  }

  tail(n = 40): string {
    const last = this.lines.slice(-n).map((l) => JSON.stringify(l));
    return [...this.other.slice(-10), ...last].join('\n');
  }
}

/** A worker container of a pod: one process; a restart is a new container of the same pod. */
export interface Container {
  readonly pod: string;
  readonly proc: Proc;
  readonly restarts: number;
  readonly startedAt: number;
  /** When the kubelet reported the pod Ready for this container. */
  readyAt?: number;
  /** When the kubelet saw the pod's deletion and sent SIGTERM. */
  terminatingAt?: number;
}

export interface KubeletOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly nodeName: string;
  /** Starts the worker process of `pod` (restart: its container restart count). */
  readonly run: (pod: string, restarts: number) => Proc;
  /** The line a worker logs once it runs: the readiness probe. */
  readonly ready: (l: LogLine) => boolean;
}

/**
 * The kubelet of one Node, played by the test. Pods scheduled to the node get a worker process;
 * once the worker logs that it runs, the pod is reported Running and Ready (the worker's liveness
 * heartbeat starts before, as with a readiness probe). A pod being deleted gets SIGTERM; when the
 * process has exited the pod is deleted for good (grace period 0), as a kubelet confirms it.
 * A container that dies is not restarted on its own: the test restarts it (restartContainer) when
 * it chooses, so that what it measures is not blurred by a restart.
 */
export class TestKubelet {
  /** Current container per pod. */
  readonly containers = new Map<string, Container>();
  /** Every container ever run, in start order. */
  readonly history: Container[] = [];
  readonly errors: string[] = [];
  private informer: ListWatch<V1Pod> | undefined;
  private stopped = false;
  private readonly core: CoreV1Api;
  private readonly confirming = new Set<string>();

  constructor(private readonly options: KubeletOptions) {
    this.core = options.kc.makeApiClient(CoreV1Api);
  }

  async start(): Promise<void> {
    const { kc, namespace } = this.options;
    const informer = new ListWatch<V1Pod>(
      `/api/v1/namespaces/${namespace}/pods`,
      new Watch(kc),
      () => this.core.listNamespacedPod({ namespace }),
      false,
    );
    this.informer = informer;
    informer.on('add', (pod) => this.onPod(pod));
    informer.on('update', (pod) => this.onPod(pod));
    informer.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.errors.push(`pod watch: ${String(err)}`);
      setTimeout(() => void informer.start().catch(() => undefined), 500);
    });
    await informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer?.stop();
    for (const c of this.containers.values()) c.proc.kill('SIGKILL');
    await Promise.all([...this.containers.values()].map((c) => c.proc.exited));
  }

  /** Pods Ready with a live worker and not being deleted: what the operator should have as members. */
  readyPods(): string[] {
    return [...this.containers.values()]
      .filter((c) => c.readyAt !== undefined && c.terminatingAt === undefined && c.proc.alive)
      .map((c) => c.pod)
      .sort();
  }

  /** The process dies (the pod stays Ready: nothing reports it). */
  kill(pod: string, signal: NodeJS.Signals): Container {
    const c = this.containers.get(pod);
    if (!c) throw new Error(`no container for ${pod}`);
    c.proc.kill(signal);
    return c;
  }

  /** Starts a new container for `pod` (its process is dead), as restartPolicy Always does. */
  restartContainer(pod: string): Container {
    const c = this.containers.get(pod);
    if (!c || c.proc.alive) throw new Error(`${pod} has no dead container to restart`);
    return this.runContainer(pod, c.restarts + 1);
  }

  private onPod(pod: V1Pod): void {
    const name = pod.metadata?.name;
    if (this.stopped || !name || pod.spec?.nodeName !== this.options.nodeName) return;
    const c = this.containers.get(name);
    if (pod.metadata?.deletionTimestamp) {
      if (!c) {
        void this.confirmDeleted(name);
      } else if (c.terminatingAt === undefined) {
        c.terminatingAt = Date.now();
        c.proc.kill('SIGTERM');
        void c.proc.exited.then(() => this.confirmDeleted(name));
      }
      return;
    }
    if (!c) this.runContainer(name, 0);
  }

  private runContainer(pod: string, restarts: number): Container {
    const proc = this.options.run(pod, restarts);
    const c: Container = { pod, proc, restarts, startedAt: Date.now() };
    this.containers.set(pod, c);
    this.history.push(c);
    proc
      .waitFor('the worker to run', this.options.ready, 240_000)
      .then(async () => {
        if (c.terminatingAt !== undefined || this.stopped) return;
        await this.reportReady(pod, restarts);
        c.readyAt = Date.now();
      })
      .catch((err: unknown) => {
        if (!this.stopped && c.terminatingAt === undefined) this.errors.push(`${pod}: ${String(err)}`);
      });
    return c;
  }

  private async reportReady(pod: string, restarts: number): Promise<void> {
    const now = new Date().toISOString();
    // Strategic merge: conditions merge by type, so the scheduler's PodScheduled stays.
    await this.core.patchNamespacedPodStatus(
      {
        name: pod,
        namespace: this.options.namespace,
        body: {
          status: {
            phase: 'Running',
            startTime: now,
            conditions: [
              { type: 'Initialized', status: 'True', lastTransitionTime: now },
              { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
              { type: 'Ready', status: 'True', lastTransitionTime: now },
            ],
            containerStatuses: [
              {
                name: 'worker',
                image: 'registry.invalid/tickmesh-test:none',
                imageID: '',
                ready: true,
                started: true,
                restartCount: restarts,
                state: { running: { startedAt: now } },
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  }

  private async confirmDeleted(pod: string): Promise<void> {
    if (this.confirming.has(pod) || this.stopped) return;
    this.confirming.add(pod);
    try {
      await this.core.deleteNamespacedPod({ name: pod, namespace: this.options.namespace, gracePeriodSeconds: 0 });
    } catch (err) {
      if ((err as { code?: number }).code !== 404)
        this.errors.push(`confirming the deletion of ${pod}: ${String(err)}`);
    }
  }
}
