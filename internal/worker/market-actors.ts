import type { ActorConfig } from '../actor/config.js';
import { MarketActor } from '../actor/market-actor.js';
import type { ActorFactory } from './actor-port.js';

/** Market actors of internal/actor, all with one frozen config. */
export function marketActorFactory(config: ActorConfig): ActorFactory {
  return {
    create: (t) => new MarketActor({ exchange: t.exchange, symbol: t.symbol, market: t.market }, config),
    restore: (bytes) => MarketActor.restore(bytes, config),
  };
}
