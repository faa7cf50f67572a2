import { ConfigError } from '../runtime/errors.js';
import type { ActorConfig } from './config.js';
import type { MarketIdentity } from './market-actor.js';
import { type ActorCounters, COUNTER_NAMES } from './output.js';
import type { StateReader, StateWriter } from './state-codec.js';

/**
 * The envelope of a market actor's checkpoint (docs/CANDLES.md, "Checkpoint format"): version,
 * market, intervals and counters. Each part between them (windows, indicators, detectors, trade
 * ids) writes and reads its own state; MarketActor.snapshot() and restore() put them in order.
 */

/**
 * 2 added the idResets counter; version 1 checkpoints restore with it at 0. 3 added the trend
 * models after the trade ids; older checkpoints restore with fresh ones. 4 added each interval's
 * indicator replay base after the trend models (revisable-indicators.ts); older checkpoints
 * restore without replays of the windows they hold.
 */
export const CHECKPOINT_VERSION = 4;

export function writeHeader(w: StateWriter, identity: MarketIdentity, intervals: readonly string[]): void {
  w.u8(CHECKPOINT_VERSION);
  w.str(identity.exchange);
  w.str(identity.symbol);
  w.str(identity.market);
  w.u8(intervals.length);
  for (const i of intervals) w.str(i);
}

/**
 * The version and market of a checkpoint; a ConfigError when the version is unknown or the
 * intervals are not the config's.
 */
export function readHeader(r: StateReader, config: ActorConfig): { version: number; identity: MarketIdentity } {
  const version = r.u8();
  if (version < 1 || version > CHECKPOINT_VERSION) {
    throw new ConfigError(`actor checkpoint version ${version} is not supported`);
  }
  const identity = { exchange: r.str(), symbol: r.str(), market: r.str() };
  const n = r.u8();
  const intervals: string[] = [];
  for (let i = 0; i < n; i++) intervals.push(r.str());
  if (intervals.join(',') !== config.intervals.join(',')) {
    throw new ConfigError(
      `actor checkpoint intervals ${intervals.join(',')} differ from ${config.intervals.join(',')}`,
    );
  }
  return { version, identity };
}

export function writeCounters(w: StateWriter, counters: ActorCounters): void {
  for (const name of COUNTER_NAMES) w.uint(counters[name]);
}

export function readCounters(r: StateReader, counters: ActorCounters, version: number): void {
  for (const name of COUNTER_NAMES) if (version > 1 || name !== 'idResets') counters[name] = r.uint();
}

export function readEnd(r: StateReader): void {
  if (!r.done) throw new ConfigError('actor checkpoint has trailing bytes');
}
