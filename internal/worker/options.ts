import { z } from 'zod';
import { type ActorConfig, actorConfig } from '../actor/config.js';
import { boolFlag, intervalListFlag, intFlag, sqlSchemaFlag } from '../config/flags.js';
import { type Interval, isInterval } from '../market/interval.js';
import { DEFAULT_MAX_EVENT_SKEW_MS } from '../market/trade-fields.js';
import { ConfigError } from '../runtime/errors.js';
import { DEFAULT_RETENTION, type RetentionPolicy } from '../sink/store.js';
import type { WorkerConfig } from './worker.js';

/**
 * The worker's settings, one schema for the `tickmesh worker` flags (and the embedded mode's
 * defaults). Parsed once in cmd/, frozen, passed down.
 */
export interface WorkerOptions {
  readonly topic: string;
  readonly lateTopic: string;
  readonly rejectedTopic: string;
  /** Who places partitions: this worker's own `partitions` option, or the operator (KV placement). */
  readonly placement: 'static' | 'operator';
  /** With `placement: operator`: this worker's member name (its pod name). */
  readonly podName: string | undefined;
  readonly placementBucket: string;
  /** How long a new owner waits for the previous owner's release before it claims anyway. */
  readonly handoffWaitMs: number;
  /** How long the old owner waits for a moved partition's final checkpoint before it announces the release anyway. */
  readonly releaseWaitMs: number;
  /** Placed partitions from configuration; `all` means every partition of the topic. */
  readonly partitions: readonly number[] | 'all';
  readonly intervals: readonly Interval[];
  readonly outOfOrdernessMs: number;
  readonly allowedLatenessMs: number;
  readonly idleGraceMs: number;
  /** A record with a trade dated more than this after its receive or append time is rejected (`future-time`). */
  readonly maxEventSkewMs: number;
  readonly checkpointIntervalMs: number;
  readonly liveCacheIntervalMs: number;
  readonly maxPendingRows: number;
  readonly mailboxCapacity: number;
  readonly clockWatermark: boolean;
  readonly liveWindowMs: number;
  readonly partialUpdates: boolean;
  readonly partialIntervalMs: number;
  /** Run the per-asset index actors here (without an operator: all of them). */
  readonly indexActors: boolean;
  readonly port: number;
  readonly schema: string;
  readonly drainTimeoutMs: number;
  readonly logLevel: string;
  /** How long each interval's candles and the alerts are kept. */
  readonly retention: RetentionPolicy;
  /** A market with no trade for this long leaves memory and the checkpoint once it is reconstructible. */
  readonly evictIdleMs: number;
}

const int = intFlag;

/**
 * Six hours of event time: past every default interval's window (1h) plus the lateness and the
 * stale-market detector's critical alert, so that a quiet market is dormant when it gets there.
 */
export const DEFAULT_EVICT_IDLE_MS = 6 * 3_600_000;
/** A minute: a watermark jump checks every leaving point it passes, one per this much. */
const MIN_EVICT_IDLE_MS = 60_000;
const bool = boolFlag;

const schema = z.object({
  topic: z.string().min(1).default('tickmesh.trades.v1'),
  'late-topic': z.string().min(1).default('tickmesh.trades.late.v1'),
  'rejected-topic': z.string().min(1).default('tickmesh.trades.rejected.v1'),
  placement: z.enum(['static', 'operator']).default('static'),
  'pod-name': z.string().min(1).optional(),
  'placement-bucket': z.string().min(1).default('tickmesh-placement'),
  'handoff-wait-ms': int(0).default(5_000),
  'release-wait-ms': int(0).default(100),
  partitions: z
    .string()
    .default('all')
    .transform((s, ctx) => {
      if (s === 'all') return 'all' as const;
      const list = s.split(',').map((x) => Number(x.trim()));
      if (list.some((n) => !Number.isInteger(n) || n < 0)) {
        ctx.addIssue({ code: 'custom', message: 'expected `all` or a comma-separated list of partition numbers' });
        return z.NEVER;
      }
      return [...new Set(list)].sort((a, b) => a - b);
    }),
  intervals: intervalListFlag('1m,3m,5m,15m,30m,1h,2h,4h,6h,8h,12h,1d,1w'),
  'out-of-orderness-ms': int(0).default(2_000),
  'allowed-lateness-ms': int(0).default(60_000),
  'idle-grace-ms': int(0).default(5_000),
  'max-event-skew-ms': int(0).default(DEFAULT_MAX_EVENT_SKEW_MS),
  'checkpoint-interval-ms': int(0).default(1_000),
  'live-cache-interval-ms': int(0).default(1_000),
  'max-pending-rows': int(1).default(20_000),
  'mailbox-capacity': int(2, 10_000).default(16),
  'clock-watermark': bool.default(true),
  'live-window-ms': int(1).default(300_000),
  'partial-updates': bool.default(true),
  'partial-interval-ms': int(0).default(250),
  'index-actors': bool.default(true),
  port: int(0, 65_535).default(9464),
  schema: sqlSchemaFlag.default('public'),
  'drain-timeout-ms': int(1).default(25_000),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  'candle-retention': z
    .string()
    .default(retentionText(DEFAULT_RETENTION))
    .transform((s, ctx) => {
      const policy: Partial<Record<Interval, number>> = {};
      for (const item of s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0)) {
        const [interval, keep] = item.split('=');
        const ms = keep === undefined ? undefined : durationMs(keep);
        if (interval === undefined || !isInterval(interval) || ms === undefined) {
          ctx.addIssue({ code: 'custom', message: `expected INTERVAL=DURATION,... (e.g. 1m=30d), not ${item}` });
          return z.NEVER;
        }
        if (ms !== Number.POSITIVE_INFINITY) policy[interval] = ms;
      }
      return policy;
    }),
  'alert-retention': z
    .string()
    .default(`${(DEFAULT_RETENTION.alerts as number) / 86_400_000}d`)
    .transform((s, ctx) => {
      const ms = durationMs(s);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration (e.g. 90d, 12h) or forever' });
        return z.NEVER;
      }
      return ms;
    }),
  'evict-idle-ms': int(0)
    .default(DEFAULT_EVICT_IDLE_MS)
    .refine((ms) => ms === 0 || ms >= MIN_EVICT_IDLE_MS, `0 (never) or at least ${MIN_EVICT_IDLE_MS} ms`),
});

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d`, `12h`, `90m`, `45s` in ms; `forever` is Infinity; undefined when it is neither. */
function durationMs(s: string): number | undefined {
  if (s === 'forever') return Number.POSITIVE_INFINITY;
  const m = /^(\d+)([smhd])$/.exec(s);
  return m ? Number(m[1]) * (UNITS[m[2] as string] as number) : undefined;
}

/** The flag text of a retention policy (`1m=30d,...`), without the alerts. */
function retentionText(policy: RetentionPolicy): string {
  return Object.entries(policy)
    .filter(([k]) => k !== 'alerts')
    .map(([k, ms]) => `${k}=${(ms as number) / 86_400_000}d`)
    .join(',');
}

export const WORKER_OPTION_NAMES = Object.keys(schema.shape);

export const WORKER_OPTIONS_HELP = `  --topic NAME                 trades topic (default tickmesh.trades.v1)
  --late-topic NAME            trades past the allowed lateness (default tickmesh.trades.late.v1)
  --rejected-topic NAME        records that do not decode or hold impossible values (default tickmesh.trades.rejected.v1)
  --placement static|operator  static: run --partitions; operator: follow the operator's placement (default static)
  --pod-name NAME              member name with --placement operator (env POD_NAME)
  --placement-bucket NAME      KV bucket of the placement (default tickmesh-placement)
  --handoff-wait-ms N          wait this long for a moved partition's release before claiming it (default 5000)
  --release-wait-ms N          announce a release after this long even if its final checkpoint is not
                               committed, and commit nothing more of it; the new owner resumes from the
                               last committed checkpoint (default 100)
  --partitions all|LIST        partitions to run when no operator places them (default all)
  --intervals LIST             candle intervals (default 1m,3m,5m,15m,30m,1h,2h,4h,6h,8h,12h,1d,1w; 1s on request)
  --out-of-orderness-ms N      watermark lag behind the newest trade (default 2000)
  --allowed-lateness-ms N      a closed candle is revised by trades up to this late (default 60000)
  --idle-grace-ms N            a quiet market closes from the partition watermark this far behind it (default 5000)
  --max-event-skew-ms N       a record holding a trade dated more than N ms after its receive time or
                               the record's append time goes to the rejected topic (future-time); keep it
                               at least ingest's (default 120000)
  --checkpoint-interval-ms N   commit candles and checkpoint at least this often (default 1000)
  --live-cache-interval-ms N   write partial candles and prices to Redis at most this often, the latest
                               per key (default 1000; 0: with every batch); NATS gets every update at once
  --max-pending-rows N         commit early past this many uncommitted rows (default 20000)
  --mailbox-capacity N         record batches queued per partition; pauses at half (default 16)
  --clock-watermark true|false close quiet windows from the clock on live partitions (default true)
  --live-window-ms N           a partition is live while its newest trade is this recent (default 300000)
  --partial-updates true|false publish open-candle updates (default true)
  --partial-interval-ms N      a market's open-candle updates at most this often (default 250; 0: with every
                               trade); a trade's update waits up to this long for the next one
  --index-actors true|false    run the cross-venue index actors of every asset here (default true)
  --port N                     /healthz /readyz /metrics port (default 9464)
  --schema NAME                PostgreSQL schema (default public)
  --drain-timeout-ms N         SIGTERM drain gives up after this long (default 25000)
  --log-level LEVEL            pino level (default info)
  --candle-retention LIST      how long candles are kept per interval, INTERVAL=DURATION (s, m, h, d or
                               forever); an interval not listed is kept forever
                               (default ${retentionText(DEFAULT_RETENTION)})
  --alert-retention DURATION   how long alerts are kept, by event time (default 90d; forever)
  --evict-idle-ms N            a market leaves memory and the checkpoint when the watermark reaches its
                               last trade's event time + N (its empty candles end exactly there); a trade
                               brings it back with the same outputs. 0: never; else at least 60000
                               (default 21600000: 6 h)`;

export function parseWorkerOptions(flags: Readonly<Record<string, string | undefined>>): WorkerOptions {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid worker option: ${issues}`);
  }
  const v = parsed.data;
  if (v.placement === 'operator' && !v['pod-name']) {
    throw new ConfigError('--placement operator needs a member name: --pod-name or POD_NAME');
  }
  return Object.freeze({
    topic: v.topic,
    lateTopic: v['late-topic'],
    rejectedTopic: v['rejected-topic'],
    placement: v.placement,
    podName: v['pod-name'],
    placementBucket: v['placement-bucket'],
    handoffWaitMs: v['handoff-wait-ms'],
    releaseWaitMs: v['release-wait-ms'],
    partitions: v.partitions,
    intervals: v.intervals,
    outOfOrdernessMs: v['out-of-orderness-ms'],
    allowedLatenessMs: v['allowed-lateness-ms'],
    idleGraceMs: v['idle-grace-ms'],
    maxEventSkewMs: v['max-event-skew-ms'],
    checkpointIntervalMs: v['checkpoint-interval-ms'],
    liveCacheIntervalMs: v['live-cache-interval-ms'],
    maxPendingRows: v['max-pending-rows'],
    mailboxCapacity: v['mailbox-capacity'],
    clockWatermark: v['clock-watermark'],
    liveWindowMs: v['live-window-ms'],
    partialUpdates: v['partial-updates'],
    partialIntervalMs: v['partial-interval-ms'],
    indexActors: v['index-actors'],
    port: v.port,
    schema: v.schema,
    drainTimeoutMs: v['drain-timeout-ms'],
    logLevel: v['log-level'],
    retention: Object.freeze({
      ...v['candle-retention'],
      ...(Number.isFinite(v['alert-retention']) ? { alerts: v['alert-retention'] } : {}),
    }),
    evictIdleMs: v['evict-idle-ms'],
  });
}

/** The worker's runtime config from its options. */
export function workerConfig(o: WorkerOptions): WorkerConfig {
  return {
    topic: o.topic,
    outputTopics: { late: o.lateTopic, rejected: o.rejectedTopic },
    partition: {
      checkpointIntervalMs: o.checkpointIntervalMs,
      maxPendingRows: o.maxPendingRows,
      mailboxCapacity: o.mailboxCapacity,
      pauseAt: Math.max(1, Math.floor(o.mailboxCapacity / 2)),
      resumeAt: Math.max(0, Math.floor(o.mailboxCapacity / 8)),
      outOfOrdernessMs: o.outOfOrdernessMs,
      idleGraceMs: o.idleGraceMs,
      maxEventSkewMs: o.maxEventSkewMs,
      clockWatermark: o.clockWatermark,
      liveWindowMs: o.liveWindowMs,
      ...(o.evictIdleMs > 0 ? { evictIdleMs: o.evictIdleMs } : {}),
    },
    tickMs: 250,
    liveCacheIntervalMs: o.liveCacheIntervalMs,
    drainTimeoutMs: o.drainTimeoutMs,
    retention: o.retention,
    retentionEveryMs: 3_600_000,
  };
}

/** The actors' config from the worker's options (indicator and detector settings at their defaults). */
export function workerActorConfig(o: WorkerOptions): ActorConfig {
  return actorConfig({
    intervals: [...o.intervals],
    outOfOrdernessMs: o.outOfOrdernessMs,
    allowedLatenessMs: o.allowedLatenessMs,
    partialUpdates: o.partialUpdates,
    partialMinIntervalMs: o.partialIntervalMs,
    detectors: { interval: o.intervals.includes('1m') ? '1m' : (o.intervals[0] as Interval) },
  });
}
