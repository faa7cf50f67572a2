import { z } from 'zod';
import { DEFAULT_MAX_EVENT_SKEW_MS } from '../market/trade-fields.js';
import { ConfigError } from '../runtime/errors.js';
import { DEFAULT_RETENTION, type RetentionPolicy } from '../sink/store.js';
import { KLINES_TOPIC } from '../verify/kline-record.js';
import { boolFlag, intervalListFlag, intFlag, logLevelFlag, sqlSchemaFlag } from './flags.js';
import { type FlagSpec, type FlagValues, flagHelp, flagName, parseFlagValues, type RawFlags } from './parse-flags.js';
import { alertRetentionFlag, candleRetentionFlag, retentionPolicy, retentionText } from './retention.js';

/**
 * The `tickmesh worker` flags (and the embedded mode's worker settings): one schema, parsed once
 * in cmd/, frozen, passed down (internal/worker/options.ts maps them to the worker's config).
 */

const int = intFlag;

const partitionList = z
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
  });

/**
 * Six hours of event time: past every default interval's window (1h) plus the lateness and the
 * stale-market detector's critical alert, so that a quiet market is dormant when it gets there.
 */
export const DEFAULT_EVICT_IDLE_MS = 6 * 3_600_000;
/** A minute: a watermark jump checks every leaving point it passes, one per this much. */
const MIN_EVICT_IDLE_MS = 60_000;

/** The worker's Kafka fetches: the broker holds a fetch until this many bytes or the wait. */
export const FETCH_MAX_WAIT_MS = 100;
export const FETCH_MIN_BYTES = 1;
/** A live partition's checkpoint of market state alone (no rows) waits this long. */
export const STATE_CHECKPOINT_INTERVAL_MS = 10_000;

export const WORKER_FLAGS = {
  topic: { schema: z.string().min(1).default('tickmesh.trades.v1'), arg: 'NAME', help: 'trades topic' },
  lateTopic: {
    schema: z.string().min(1).default('tickmesh.trades.late.v1'),
    arg: 'NAME',
    help: 'trades past the allowed lateness',
  },
  rejectedTopic: {
    schema: z.string().min(1).default('tickmesh.trades.rejected.v1'),
    arg: 'NAME',
    help: 'records that do not decode or hold impossible values',
  },
  placement: {
    schema: z.enum(['static', 'operator']).default('static'),
    arg: 'static|operator',
    help: "static: run --partitions; operator: follow the operator's placement",
  },
  podName: {
    schema: z.string().min(1).optional(),
    arg: 'NAME',
    env: 'POD_NAME',
    help: 'member name with --placement operator',
  },
  placementBucket: {
    schema: z.string().min(1).default('tickmesh-placement'),
    arg: 'NAME',
    help: 'KV bucket of the placement',
  },
  handoffWaitMs: {
    schema: int(0).default(5_000),
    arg: 'N',
    help: "wait this long for a moved partition's release before claiming it",
  },
  releaseWaitMs: {
    schema: int(0).default(100),
    arg: 'N',
    help:
      'announce a release after this long even if its final checkpoint is not committed, and commit ' +
      'nothing more of it; the new owner resumes from the last committed checkpoint',
  },
  partitions: { schema: partitionList, arg: 'all|LIST', help: 'partitions to run when no operator places them' },
  intervals: {
    schema: intervalListFlag('1m,3m,5m,15m,30m,1h,2h,4h,6h,8h,12h,1d,1w'),
    arg: 'LIST',
    help: 'candle intervals; 1s on request',
  },
  outOfOrdernessMs: { schema: int(0).default(2_000), arg: 'N', help: 'watermark lag behind the newest trade' },
  allowedLatenessMs: {
    schema: int(0).default(60_000),
    arg: 'N',
    help: 'a closed candle is revised by trades up to this late',
  },
  idleGraceMs: {
    schema: int(0).default(5_000),
    arg: 'N',
    help: 'a quiet market closes from the partition watermark this far behind it',
  },
  maxEventSkewMs: {
    schema: int(0).default(DEFAULT_MAX_EVENT_SKEW_MS),
    arg: 'N',
    help:
      "a record holding a trade dated more than N ms after its receive time or the record's append time " +
      "goes to the rejected topic (future-time); keep it at least ingest's",
  },
  checkpointIntervalMs: {
    schema: int(0).default(1_000),
    arg: 'N',
    help: 'commit candles and checkpoint at least this often',
  },
  stateCheckpointIntervalMs: {
    schema: int(0).default(STATE_CHECKPOINT_INTERVAL_MS),
    arg: 'N',
    help:
      'on a live partition, a checkpoint that would commit only market state (trades in open windows; no ' +
      'closed candle or alert waiting) waits this long instead; a crash replays up to this much more',
  },
  liveCacheIntervalMs: {
    schema: int(0).default(1_000),
    arg: 'N',
    help:
      'write partial candles and prices to Redis at most this often, the latest per key (0: with every ' +
      'batch); NATS gets every update at once',
  },
  maxPendingRows: { schema: int(1).default(20_000), arg: 'N', help: 'commit early past this many uncommitted rows' },
  fetchMaxWaitMs: {
    schema: int(1, 30_000).default(FETCH_MAX_WAIT_MS),
    arg: 'N',
    help:
      'longest a fetch of the trades topic waits at the broker for --fetch-min-bytes (the klines and context ' +
      'topics: at least 1000); also how long a resumed or newly placed partition can wait for its first fetch',
  },
  fetchMinBytes: {
    schema: int(1, 1_048_576).default(FETCH_MIN_BYTES),
    arg: 'N',
    help:
      'bytes a fetch waits for at the broker, up to --fetch-max-wait-ms (1: return with the first record, a ' +
      'round trip per record on a quiet topic)',
  },
  mailboxCapacity: {
    schema: int(2, 10_000).default(16),
    arg: 'N',
    help: 'record batches queued per partition; pauses at half',
  },
  clockWatermark: {
    schema: boolFlag.default(true),
    arg: 'true|false',
    help: 'close quiet windows from the clock on live partitions',
  },
  liveWindowMs: {
    schema: int(1).default(300_000),
    arg: 'N',
    help: 'a partition is live while its newest trade is this recent',
  },
  partialUpdates: { schema: boolFlag.default(true), arg: 'true|false', help: 'publish open-candle updates' },
  partialIntervalMs: {
    schema: int(0).default(250),
    arg: 'N',
    help:
      "a market's open-candle updates at most this often (0: with every trade); a trade's update waits " +
      'up to this long for the next one',
  },
  indexActors: {
    schema: boolFlag.default(true),
    arg: 'true|false',
    help: 'run the cross-venue index actors of every asset here',
  },
  context: {
    schema: boolFlag.default(true),
    arg: 'true|false',
    help: 'record the context topics and run the per-asset context actors (docs/SOURCES.md)',
  },
  referenceTopic: {
    schema: z.string().min(1).default('tickmesh.reference.v1'),
    arg: 'NAME',
    help: 'reference data topic',
  },
  sentimentTopic: { schema: z.string().min(1).default('tickmesh.sentiment.v1'), arg: 'NAME', help: 'sentiment topic' },
  newsTopic: { schema: z.string().min(1).default('tickmesh.news.v1'), arg: 'NAME', help: 'news headlines topic' },
  verify: {
    schema: boolFlag.default(true),
    arg: 'true|false',
    help:
      "judge each closed candle against the venue's own kline from the klines topic (docs/WORKER.md, " +
      '"Verified candles"); off, or when that topic is missing, candles are not verified',
  },
  klinesTopic: {
    schema: z.string().min(1).default(KLINES_TOPIC),
    arg: 'NAME',
    help: "the venues' kline pushes, partitioned like the trades topic",
  },
  verifyIntervals: { schema: intervalListFlag('1m'), arg: 'LIST', help: 'candle intervals judged against the venues' },
  verifyWaitMs: {
    schema: int(0).default(30_000),
    arg: 'N',
    help: "a closed candle whose venue kline has not come this long after it closed is 'unverifiable'",
  },
  verifySettleMs: {
    schema: int(0).default(10_000),
    arg: 'N',
    help: "for a venue that does not mark its final kline push: its latest push is final this long after the window's end",
  },
  port: { schema: int(0, 65_535).default(9464), arg: 'N', help: '/healthz /readyz /metrics port' },
  schema: { schema: sqlSchemaFlag.default('public'), arg: 'NAME', help: 'PostgreSQL schema' },
  drainTimeoutMs: { schema: int(1).default(25_000), arg: 'N', help: 'SIGTERM drain gives up after this long' },
  logLevel: { schema: logLevelFlag, arg: 'LEVEL', help: 'pino level' },
  candleRetention: {
    schema: candleRetentionFlag(retentionText(DEFAULT_RETENTION)),
    arg: 'LIST',
    help:
      'how long candles are kept per interval, INTERVAL=DURATION (s, m, h, d or forever); an interval ' +
      'not listed is kept forever',
  },
  alertRetention: {
    schema: alertRetentionFlag(`${(DEFAULT_RETENTION.alerts as number) / 86_400_000}d`),
    arg: 'DURATION',
    help: 'how long alerts are kept, by event time (or forever)',
  },
  modelsRefreshEvery: {
    schema: int(0, 86_400).default(0),
    arg: 'S',
    help:
      'refresh the SQL models (docs/HISTORY.md) every S seconds; one worker at a time refreshes, the ' +
      'others skip that round. 0: never (`tickmesh models refresh` does it)',
  },
  evictIdleMs: {
    schema: int(0)
      .default(DEFAULT_EVICT_IDLE_MS)
      .refine((ms) => ms === 0 || ms >= MIN_EVICT_IDLE_MS, `0 (never) or at least ${MIN_EVICT_IDLE_MS} ms`),
    arg: 'N',
    help:
      "a market leaves memory and the checkpoint when the watermark reaches its last trade's event " +
      'time + N (its empty candles end exactly there); a trade brings it back with the same outputs. ' +
      '0: never; else at least 60000 (6 h)',
  },
} as const satisfies FlagSpec;

/** The worker's settings, as parsed from WORKER_FLAGS; the two retention flags make one policy. */
export type WorkerOptions = Omit<FlagValues<typeof WORKER_FLAGS>, 'candleRetention' | 'alertRetention'> & {
  /** How long each interval's candles and the alerts are kept. */
  readonly retention: RetentionPolicy;
};

/** The flag names, for the chart test that checks the Deployment's arguments. */
export const WORKER_FLAG_NAMES = Object.entries(WORKER_FLAGS).map(([key, f]) => flagName(key, f));

export const WORKER_FLAGS_HELP = flagHelp(WORKER_FLAGS);

/** The worker's options from raw flags (by flag name) over `env`; ConfigError naming a bad one. */
export function parseWorkerOptions(
  flags: RawFlags,
  env: Readonly<Record<string, string | undefined>> = {},
): WorkerOptions {
  const { candleRetention, alertRetention, ...v } = parseFlagValues(WORKER_FLAGS, flags, env);
  if (v.placement === 'operator' && !v.podName) {
    throw new ConfigError('--placement operator needs a member name: --pod-name or POD_NAME');
  }
  return Object.freeze({ ...v, retention: retentionPolicy(candleRetention, alertRetention) });
}
