import type { Alert } from '../market/alert.js';
import type { CandleContext } from './candle-window.js';
import type { DetectorConfig } from './config.js';
import type { StateReader, StateWriter } from './state-codec.js';

/**
 * Stale market: no trade for `afterMs` of event time on a market that normally trades. One
 * warning per silence, one more (critical) at `criticalMultiple` times as long; a trade ends
 * the silence. "Now" is the market's watermark plus the out-of-orderness: the newest trade
 * time when replaying, the wall clock when the worker advances from the clock.
 */
export class StaleMarketDetector {
  /** Alerts already raised in the current silence: 0, 1 (warning) or 2 (critical). */
  level = 0;

  reset(): void {
    this.level = 0;
  }

  writeState(w: StateWriter): void {
    w.u8(this.level);
  }

  readState(r: StateReader): void {
    this.level = r.u8();
  }

  check(
    now: number,
    lastTradeTime: number,
    meanTrades: number,
    ctx: CandleContext,
    cfg: DetectorConfig['staleMarket'],
  ): Alert | undefined {
    if (!cfg.enabled || this.level >= 2 || !Number.isFinite(lastTradeTime)) return undefined;
    if (!(meanTrades >= cfg.minTradesPerCandle) || meanTrades === 0) return undefined;
    const silent = now - lastTradeTime;
    const critical = silent >= cfg.afterMs * cfg.criticalMultiple;
    if (silent < cfg.afterMs || (this.level === 1 && !critical)) return undefined;
    this.level = critical ? 2 : 1;
    const limit = critical ? cfg.afterMs * cfg.criticalMultiple : cfg.afterMs;
    return {
      id: `${ctx.exchange}:${ctx.symbol}:stale_market:${lastTradeTime}:${this.level}`,
      exchange: ctx.exchange,
      symbol: ctx.symbol,
      market: ctx.market,
      kind: 'stale_market',
      severity: critical ? 'critical' : 'warning',
      time: lastTradeTime + limit,
      message: `${ctx.market} has had no trade for ${Math.round(silent / 1000)} s`,
      evidence: {
        lastTradeTime,
        silentMs: silent,
        thresholdMs: limit,
        baselineTradesPerCandle: meanTrades,
      },
    };
  }
}
