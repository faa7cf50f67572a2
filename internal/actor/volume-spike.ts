import type { Alert } from '../market/alert.js';
import type { Interval } from '../market/interval.js';
import { ConfigError } from '../runtime/errors.js';
import { type CandleContext, type CandleWindow, VOLUME } from './candle-window.js';
import type { DetectorConfig } from './config.js';
import { formatWide, wideToReal } from './decimal.js';
import type { StateReader, StateWriter } from './state-codec.js';

/**
 * Volume spike: a closed candle's base volume against the mean of the previous `window`
 * candles (empty ones count, as zero). The same rolling window holds trade counts, which is
 * the "normally trades" baseline of the stale-market detector.
 */
export class VolumeSpikeDetector {
  private readonly volumes: Float64Array;
  private readonly counts: Float64Array;
  /** Candles seen. */
  samples = 0;

  constructor(window: number) {
    this.volumes = new Float64Array(window);
    this.counts = new Float64Array(window);
  }

  observe(
    w: CandleWindow,
    ctx: CandleContext,
    interval: Interval,
    cfg: DetectorConfig['volumeSpike'],
  ): Alert | undefined {
    const volume = wideToReal(w.sums, VOLUME, ctx.sizeScale);
    let alert: Alert | undefined;
    const n = Math.min(this.samples, this.volumes.length);
    if (cfg.enabled && this.samples >= cfg.minSamples && volume > 0) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += this.volumes[i] as number;
      const mean = sum / n;
      const ratio = mean > 0 ? volume / mean : Number.POSITIVE_INFINITY;
      if (ratio >= cfg.ratio) {
        alert = {
          id: `${ctx.exchange}:${ctx.symbol}:volume_spike:${interval}:${w.start}`,
          exchange: ctx.exchange,
          symbol: ctx.symbol,
          market: ctx.market,
          kind: 'volume_spike',
          severity: ratio >= cfg.criticalRatio ? 'critical' : 'warning',
          time: w.end - 1,
          interval,
          message: `${ctx.market} ${interval} volume ${Number.isFinite(ratio) ? `${ratio.toFixed(1)}x` : 'after none in'} the last ${n} candles`,
          evidence: {
            openTime: w.start,
            volume: formatWide(w.sums, VOLUME, ctx.sizeScale),
            trades: w.count,
            baselineMeanVolume: mean,
            ratio: Number.isFinite(ratio) ? ratio : 'inf',
            baselineCandles: n,
          },
        };
      }
    }
    const i = this.samples % this.volumes.length;
    this.volumes[i] = volume;
    this.counts[i] = w.count;
    this.samples++;
    return alert;
  }

  /** The rolling window for the actor's checkpoint, its length first (checked on restore). */
  writeState(w: StateWriter): void {
    w.uint(this.volumes.length);
    w.uint(this.samples);
    const filled = Math.min(this.samples, this.volumes.length);
    for (let i = 0; i < filled; i++) {
      w.f64(this.volumes[i] as number);
      w.uint(this.counts[i] as number);
    }
  }

  /** Restores writeState() bytes into this fresh instance; a ConfigError if the window differs. */
  readState(r: StateReader): void {
    if (r.uint() !== this.volumes.length)
      throw new ConfigError('actor checkpoint volume baseline differs from the config');
    this.samples = r.uint();
    const filled = Math.min(this.samples, this.volumes.length);
    for (let i = 0; i < filled; i++) {
      this.volumes[i] = r.f64();
      this.counts[i] = r.uint();
    }
  }

  /** Mean trade count per candle over the window; NaN before any candle. */
  meanTrades(): number {
    const n = Math.min(this.samples, this.counts.length);
    if (n === 0) return Number.NaN;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.counts[i] as number;
    return sum / n;
  }
}
