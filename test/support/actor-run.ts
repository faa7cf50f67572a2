import { actorConfig } from '../../internal/actor/config.js';
import { MarketActor } from '../../internal/actor/market-actor.js';
import { type ActorOutput, createActorOutput } from '../../internal/actor/output.js';
import type { Interval } from '../../internal/market/interval.js';
import type { Trade } from '../../internal/market/trade.js';
import type { CommitBatch, Store } from '../../internal/sink/store.js';

/** What one market's actor makes of `trades` (all of one market, in order), flushed to the end. */
export function runActor(trades: readonly Trade[], intervals: Interval[]): ActorOutput {
  const first = trades[0];
  if (!first) throw new Error('no trades');
  const actor = new MarketActor(
    { exchange: first.exchange, symbol: first.symbol, market: first.market },
    actorConfig({ intervals, partialUpdates: false }),
  );
  const out = createActorOutput();
  for (const t of trades) actor.onTrade(t, 0, out);
  actor.flush(0, out);
  return out;
}

/** Commits rows through the Store in one checkpoint of a topic named `topic`. */
export function commitOnce(store: Store, topic: string, rows: Pick<CommitBatch, 'candles' | 'alerts' | 'indicators'>) {
  return store.commit({ topic, partition: 0, epoch: 1, nextOffset: 1n, state: new Uint8Array(), ...rows });
}
