import type { ActorConfig } from '../actor/config.js';
import { MarketActor } from '../actor/market-actor.js';
import { type Interval, nominalMs } from '../market/interval.js';
import type { ActorFactory } from './actor-port.js';

/** Market actors of internal/actor, all with one frozen config. */
export function marketActorFactory(config: ActorConfig): ActorFactory {
  return {
    // A step of d ms closes at most d / len + 1 windows of an interval of len ms (the finest is the
    // smallest; a month is at least 28 days, so 1M alone counts as its shortest).
    safeStepMs: (config.emptyCandleLimit - 1) * Math.min(nominalMs(config.intervals[0] as Interval), 28 * 86_400_000),
    create: (t) => new MarketActor({ exchange: t.exchange, symbol: t.symbol, market: t.market }, config),
    restore: (bytes) => MarketActor.restore(bytes, config),
  };
}
