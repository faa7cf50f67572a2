import type { Alert } from '../market/alert.js';
import type { Interval } from '../market/interval.js';
import type { CandleContext, CandleWindow } from './candle-window.js';
import type { DetectorConfig } from './config.js';
import { formatScaled } from './decimal.js';
import type { StateReader, StateWriter } from './state-codec.js';

/**
 * Price spike: the log return of a closed candle against an EWMA baseline of earlier returns,
 * as a z-score. Empty candles carry no price discovery and are skipped (they would shrink the
 * baseline towards zero and make the first tick after a quiet spell look like a spike). The
 * baseline is updated after the test, so a spike cannot hide itself.
 */
export class PriceSpikeDetector {
  private mean = 0;
  private variance = 0;
  private samples = 0;
  /** Scaled close of the last non-empty candle; 0 before the first. */
  private lastClose = 0;

  /** The actor's price scale grew: keep the last close at the new scale. */
  rescalePrice(factor: number): void {
    this.lastClose *= factor;
  }

  /** The baseline for the actor's checkpoint. */
  writeState(w: StateWriter): void {
    w.f64(this.mean);
    w.f64(this.variance);
    w.uint(this.samples);
    w.uint(this.lastClose);
  }

  readState(r: StateReader): void {
    this.mean = r.f64();
    this.variance = r.f64();
    this.samples = r.uint();
    this.lastClose = r.uint();
  }

  observe(
    w: CandleWindow,
    ctx: CandleContext,
    interval: Interval,
    cfg: DetectorConfig['priceSpike'],
  ): Alert | undefined {
    if (w.count === 0) return undefined;
    const prev = this.lastClose;
    this.lastClose = w.close;
    if (prev === 0) return undefined;
    const r = Math.log(w.close / prev);
    let alert: Alert | undefined;
    if (cfg.enabled && this.samples >= cfg.minSamples && this.variance > 0) {
      const stdev = Math.sqrt(this.variance);
      const z = (r - this.mean) / stdev;
      if (Math.abs(z) >= cfg.zScore) {
        const critical = Math.abs(z) >= cfg.criticalZScore;
        const dir = r > 0 ? 'up' : 'down';
        alert = {
          id: `${ctx.exchange}:${ctx.symbol}:price_spike:${interval}:${w.start}`,
          exchange: ctx.exchange,
          symbol: ctx.symbol,
          market: ctx.market,
          kind: 'price_spike',
          severity: critical ? 'critical' : 'warning',
          time: w.end - 1,
          interval,
          message: `${ctx.market} ${interval} close moved ${dir} ${(Math.abs(Math.expm1(r)) * 100).toFixed(3)}% (z ${z.toFixed(2)})`,
          evidence: {
            openTime: w.start,
            previousClose: formatScaled(prev, ctx.priceScale),
            close: formatScaled(w.close, ctx.priceScale),
            logReturn: r,
            zScore: z,
            baselineMean: this.mean,
            baselineStdev: stdev,
            baselineSamples: this.samples,
          },
        };
      }
    }
    const d = r - this.mean;
    const a = cfg.alpha;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
    this.samples++;
    return alert;
  }
}
