import type { ActorOutput, TradeOutcome } from '../actor/output.js';
import type { Trade } from '../market/trade.js';
import type { TradeRow } from '../market/trade-row.js';

/**
 * What the worker needs of a market actor (internal/actor/market-actor.ts satisfies it). The
 * worker owns the actors of its partitions; it never looks inside them: it feeds trades and
 * time, and keeps their snapshots in the partition's checkpoint.
 */
export interface MarketActorPort {
  /** Feeds one trade; what it produces is appended to `out`. `now` only rate-limits partial updates. */
  onTrade(trade: Trade, now: number, out: ActorOutput): TradeOutcome;
  /** onTrade for a trade whose decimals and id are already parsed: the same outcome and outputs as onTrade(row.toTrade()). */
  onTradeRow(row: TradeRow, now: number, out: ActorOutput): TradeOutcome;
  /** Raises the actor's watermark (event time), closing the windows it passes: how a quiet market closes. */
  advance(watermarkMs: number, now: number, out: ActorOutput): void;
  /**
   * Raises the watermark to `watermarkMs` closing only the windows a step to `cutAs` would close
   * up to there, and nothing else: reach(w, c) then advance(c) is advance(c) (MarketActor.reach).
   */
  reach(watermarkMs: number, cutAs: number, out: ActorOutput): void;
  /** Publishes a partial update held back by its rate limit, if due at `now`; changes no result. */
  flushPartials(now: number, out: ActorOutput): void;
  /** Publishes the market's latest trade price if a trade was accepted since the last one; changes no result. */
  flushPrice(out: ActorOutput): void;
  /**
   * The lowest watermark at which advance() does more than raise the watermark (a window closes,
   * a detector raises); partial updates aside. +Infinity: none until the next trade.
   */
  nextDue(): number;
  /** A partial update waits for its rate limit: flushPartials publishes it once due. */
  readonly pendingPartial: boolean;
  /** The whole state, restorable to the same behaviour. */
  snapshot(): Uint8Array;
  /** Its watermark (event time): the highest given to advance or implied by its trades. */
  readonly watermark: number;
  /** Newest trade event time it has seen. */
  readonly lastEventTime: number;
  /** It may be evicted: advancing a restored snapshot later gives exactly its outputs (MarketActor.dormant). */
  dormant(): boolean;
}

export interface ActorFactory {
  /**
   * Longest watermark step that closes no run of empty windows longer than the actors cut
   * (config.emptyCandleLimit): a returning evicted actor catches up in steps no longer than this.
   */
  readonly safeStepMs: number;
  /** A new actor for the market of `trade` (its first trade in this partition). */
  create(trade: Trade): MarketActorPort;
  restore(snapshot: Uint8Array): MarketActorPort;
}
