import { type Interval, isInterval, nominalMs } from '../market/interval.js';
import { ConfigError } from '../runtime/errors.js';
import { type ParsedDecimal, parseDecimal } from './decimal.js';

/**
 * Everything a MarketActor is configured with: a plain, deeply frozen object, built once by
 * actorConfig() and shared by every actor of a worker. docs/CANDLES.md defines each field.
 */
export interface ActorConfig {
  /** Candle intervals, finest first. */
  readonly intervals: readonly Interval[];
  /** The watermark trails the newest event time by this much; trades at most this far out of order are on time. */
  readonly outOfOrdernessMs: number;
  /** A closed window is kept this long past the watermark; a trade for it revises the candle. */
  readonly allowedLatenessMs: number;
  /** Partial (open-window) candles are emitted at most once per this many ms per market; 0 = every trade. */
  readonly partialMinIntervalMs: number;
  /** false: no partial candles (replay, offline). */
  readonly partialUpdates: boolean;
  /**
   * Most empty candles one interval publishes in one step. A watermark far past a market's last
   * trade (a bogus trade time, a market silent for months) would otherwise emit an unbounded
   * run; the earliest ones, already past the lateness, are skipped and counted instead.
   */
  readonly emptyCandleLimit: number;
  readonly indicators: IndicatorConfig;
  readonly detectors: DetectorConfig;
  readonly trend: TrendConfig;
}

/** The online trend model of every interval (trend-model.ts, docs/MODEL.md). */
export interface TrendConfig {
  readonly enabled: boolean;
  /** SGD step size. */
  readonly learningRate: number;
  /** L2 penalty on the weights other than the bias. */
  readonly l2: number;
  /** Returns seen before the first forecast. */
  readonly warmup: number;
  /** Outcomes scored before the model is compared with a baseline. */
  readonly minScored: number;
  /** One-sided critical z of the paired log-loss difference for a `better` verdict. */
  readonly zCritical: number;
}

export interface IndicatorConfig {
  readonly smaPeriods: readonly number[];
  readonly emaPeriods: readonly number[];
  /** Number of log returns in the realized volatility. */
  readonly volatilityPeriod: number;
  /** Number of candles in the rolling VWAP. */
  readonly vwapPeriod: number;
}

export interface DetectorConfig {
  /** The interval whose closed candles the price-spike, volume-spike and stale detectors watch. */
  readonly interval: Interval;
  readonly priceSpike: {
    readonly enabled: boolean;
    /** |z| at or above this fires a warning. */
    readonly zScore: number;
    /** |z| at or above this is critical. */
    readonly criticalZScore: number;
    /** EWMA weight of the newest return in the baseline mean and variance. */
    readonly alpha: number;
    /** Returns the baseline must have seen before it judges. */
    readonly minSamples: number;
  };
  readonly volumeSpike: {
    readonly enabled: boolean;
    /** volume / baseline mean at or above this fires a warning. */
    readonly ratio: number;
    readonly criticalRatio: number;
    /** Candles in the rolling baseline. */
    readonly window: number;
    readonly minSamples: number;
  };
  readonly whaleTrade: {
    readonly enabled: boolean;
    /** Notional (price * size, quote currency) at or above which a trade is a whale trade; decimal string. */
    readonly notional: string;
    /** Per canonical market overrides of `notional`. */
    readonly perMarket: Readonly<Record<string, string>>;
    /** Notional at or above this multiple of the threshold is critical. */
    readonly criticalMultiple: number;
  };
  readonly staleMarket: {
    readonly enabled: boolean;
    /** No trade for this long (event time) fires a warning. */
    readonly afterMs: number;
    /** Silence of this multiple of afterMs is critical (one more alert). */
    readonly criticalMultiple: number;
    /** "Normally trades": the mean trade count per detector candle over the volume baseline. */
    readonly minTradesPerCandle: number;
  };
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : DeepPartial<T[K]> };
export type ActorConfigInput = DeepPartial<ActorConfig>;

export const DEFAULT_ACTOR_CONFIG: ActorConfig = deepFreeze({
  intervals: ['1m', '5m', '15m', '1h'] as Interval[],
  outOfOrdernessMs: 2_000,
  allowedLatenessMs: 60_000,
  partialMinIntervalMs: 250,
  partialUpdates: true,
  emptyCandleLimit: 10_000,
  indicators: { smaPeriods: [20], emaPeriods: [12, 26], volatilityPeriod: 30, vwapPeriod: 20 },
  detectors: {
    interval: '1m',
    priceSpike: { enabled: true, zScore: 4, criticalZScore: 6, alpha: 0.05, minSamples: 30 },
    volumeSpike: { enabled: true, ratio: 5, criticalRatio: 10, window: 60, minSamples: 20 },
    whaleTrade: { enabled: true, notional: '100000', perMarket: {}, criticalMultiple: 10 },
    staleMarket: { enabled: true, afterMs: 5 * 60_000, criticalMultiple: 4, minTradesPerCandle: 1 },
  },
  trend: { enabled: true, learningRate: 0.02, l2: 0.001, warmup: 10, minScored: 100, zCritical: 2.33 },
});

/** Longest indicator or baseline look-back the checkpoint format supports. */
export const MAX_PERIOD = 10_000;

/** Merges `input` over the defaults, validates once and freezes; throws ConfigError. */
export function actorConfig(input: ActorConfigInput = {}): ActorConfig {
  const d = DEFAULT_ACTOR_CONFIG;
  const det = input.detectors ?? {};
  const config: ActorConfig = {
    intervals: [...(input.intervals ?? d.intervals)],
    outOfOrdernessMs: input.outOfOrdernessMs ?? d.outOfOrdernessMs,
    allowedLatenessMs: input.allowedLatenessMs ?? d.allowedLatenessMs,
    partialMinIntervalMs: input.partialMinIntervalMs ?? d.partialMinIntervalMs,
    partialUpdates: input.partialUpdates ?? d.partialUpdates,
    emptyCandleLimit: input.emptyCandleLimit ?? d.emptyCandleLimit,
    indicators: {
      ...d.indicators,
      ...input.indicators,
      smaPeriods: [...(input.indicators?.smaPeriods ?? d.indicators.smaPeriods)],
      emaPeriods: [...(input.indicators?.emaPeriods ?? d.indicators.emaPeriods)],
    },
    detectors: {
      interval: det.interval ?? d.detectors.interval,
      priceSpike: { ...d.detectors.priceSpike, ...det.priceSpike },
      volumeSpike: { ...d.detectors.volumeSpike, ...det.volumeSpike },
      whaleTrade: {
        ...d.detectors.whaleTrade,
        ...det.whaleTrade,
        perMarket: { ...((det.whaleTrade?.perMarket as Record<string, string>) ?? d.detectors.whaleTrade.perMarket) },
      },
      staleMarket: { ...d.detectors.staleMarket, ...det.staleMarket },
    },
    trend: { ...d.trend, ...input.trend },
  };
  validate(config);
  return deepFreeze({ ...config, intervals: sortIntervals(config.intervals) });
}

function sortIntervals(list: readonly Interval[]): Interval[] {
  return [...new Set(list)].sort((a, b) => nominalMs(a) - nominalMs(b));
}

function validate(c: ActorConfig): void {
  const fail = (msg: string): never => {
    throw new ConfigError(`actor config: ${msg}`);
  };
  if (c.intervals.length === 0) fail('intervals must not be empty');
  for (const i of c.intervals) if (!isInterval(i)) fail(`unknown interval ${String(i)}`);
  if (c.intervals.length > 14) fail('too many intervals');
  const ms = (name: string, v: number, max = 365 * 86_400_000): void => {
    if (!Number.isInteger(v) || v < 0 || v > max) fail(`${name} must be an integer of ms in [0, ${max}]`);
  };
  ms('outOfOrdernessMs', c.outOfOrdernessMs);
  ms('allowedLatenessMs', c.allowedLatenessMs);
  ms('partialMinIntervalMs', c.partialMinIntervalMs);
  if (!Number.isSafeInteger(c.emptyCandleLimit) || c.emptyCandleLimit < 1)
    fail('emptyCandleLimit must be a positive integer');
  const period = (name: string, v: number, min = 1): void => {
    if (!Number.isInteger(v) || v < min || v > MAX_PERIOD)
      fail(`${name} must be an integer in [${min}, ${MAX_PERIOD}]`);
  };
  for (const p of c.indicators.smaPeriods) period('indicators.smaPeriods[]', p);
  for (const p of c.indicators.emaPeriods) period('indicators.emaPeriods[]', p);
  if (new Set(c.indicators.smaPeriods).size !== c.indicators.smaPeriods.length) fail('duplicate sma period');
  if (new Set(c.indicators.emaPeriods).size !== c.indicators.emaPeriods.length) fail('duplicate ema period');
  period('indicators.volatilityPeriod', c.indicators.volatilityPeriod, 2);
  period('indicators.vwapPeriod', c.indicators.vwapPeriod);
  const det = c.detectors;
  if (!c.intervals.includes(det.interval)) fail(`detectors.interval ${det.interval} is not among the intervals`);
  const pos = (name: string, v: number): void => {
    if (!(Number.isFinite(v) && v > 0)) fail(`${name} must be a positive number`);
  };
  pos('priceSpike.zScore', det.priceSpike.zScore);
  if (det.priceSpike.criticalZScore < det.priceSpike.zScore) fail('priceSpike.criticalZScore < zScore');
  if (!(det.priceSpike.alpha > 0 && det.priceSpike.alpha < 1)) fail('priceSpike.alpha must be in (0, 1)');
  period('priceSpike.minSamples', det.priceSpike.minSamples);
  pos('volumeSpike.ratio', det.volumeSpike.ratio);
  if (det.volumeSpike.criticalRatio < det.volumeSpike.ratio) fail('volumeSpike.criticalRatio < ratio');
  period('volumeSpike.window', det.volumeSpike.window);
  period('volumeSpike.minSamples', det.volumeSpike.minSamples);
  if (det.volumeSpike.minSamples > det.volumeSpike.window) fail('volumeSpike.minSamples > window');
  const scratch: ParsedDecimal = { value: 0, scale: 0 };
  const notional = (name: string, v: string): void => {
    if (typeof v !== 'string' || !parseDecimal(v, scratch) || scratch.value === 0) {
      fail(`${name} must be a positive decimal string`);
    }
  };
  notional('whaleTrade.notional', det.whaleTrade.notional);
  for (const [m, v] of Object.entries(det.whaleTrade.perMarket)) notional(`whaleTrade.perMarket.${m}`, v);
  if (!(det.whaleTrade.criticalMultiple >= 1)) fail('whaleTrade.criticalMultiple must be >= 1');
  ms('staleMarket.afterMs', det.staleMarket.afterMs);
  if (det.staleMarket.afterMs === 0) fail('staleMarket.afterMs must be positive');
  if (!(det.staleMarket.criticalMultiple >= 1)) fail('staleMarket.criticalMultiple must be >= 1');
  if (!(det.staleMarket.minTradesPerCandle >= 0)) fail('staleMarket.minTradesPerCandle must be >= 0');
  const trend = c.trend;
  if (!(trend.learningRate > 0 && trend.learningRate <= 1)) fail('trend.learningRate must be in (0, 1]');
  if (!(trend.l2 >= 0 && trend.l2 < 1)) fail('trend.l2 must be in [0, 1)');
  period('trend.warmup', trend.warmup);
  period('trend.minScored', trend.minScored, 2);
  pos('trend.zCritical', trend.zCritical);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
