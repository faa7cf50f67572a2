import type { Alert } from '../market/alert.js';
import type { Interval } from '../market/interval.js';
import { ConfigError } from '../runtime/errors.js';
import { type CandleContext, type CandleWindow, VOLUME } from './candle-window.js';
import type { DetectorConfig } from './config.js';
import { formatWide, wideToReal } from './decimal.js';
import { doubles } from './doubles.js';
import type { StateReader, StateWriter } from './state-codec.js';

/**
 * Volume spike: a closed candle's base volume against the mean of the previous `window`
 * candles (empty ones count, as zero). The same rolling window holds trade counts, which is
 * the "normally trades" baseline of the stale-market detector.
 */
export class VolumeSpikeDetector {
  /** The rolling window's volumes, then its trade counts (doubles.ts). */
  private readonly s: number[];
  private readonly window: number;
  /** Candles seen. */
  samples = 0;

  constructor(window: number) {
    this.window = window;
    this.s = doubles(2 * window, 0);
  }

  observe(
    w: CandleWindow,
    ctx: CandleContext,
    interval: Interval,
    cfg: DetectorConfig['volumeSpike'],
  ): Alert | undefined {
    const volume = wideToReal(w.sums, VOLUME, ctx.sizeScale);
    let alert: Alert | undefined;
    const n = Math.min(this.samples, this.window);
    if (cfg.enabled && this.samples >= cfg.minSamples && volume > 0) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += this.s[i] as number;
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
    const i = this.samples % this.window;
    this.s[i] = volume;
    this.s[this.window + i] = w.count;
    this.samples++;
    return alert;
  }

  /** The rolling window for the actor's checkpoint, its length first (checked on restore). */
  writeState(w: StateWriter): void {
    w.uint(this.window);
    w.uint(this.samples);
    const filled = Math.min(this.samples, this.window);
    for (let i = 0; i < filled; i++) {
      w.f64(this.s[i] as number);
      w.uint(this.s[this.window + i] as number);
    }
  }

  /** Restores writeState() bytes into this fresh instance; a ConfigError if the window differs. */
  readState(r: StateReader): void {
    if (r.uint() !== this.window) throw new ConfigError('actor checkpoint volume baseline differs from the config');
    this.samples = r.uint();
    const filled = Math.min(this.samples, this.window);
    for (let i = 0; i < filled; i++) {
      this.s[i] = r.f64();
      this.s[this.window + i] = r.uint();
    }
  }

  /** Mean trade count per candle over the window; NaN before any candle. */
  meanTrades(): number {
    const n = Math.min(this.samples, this.window);
    if (n === 0) return Number.NaN;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.s[this.window + i] as number;
    return sum / n;
  }
}
