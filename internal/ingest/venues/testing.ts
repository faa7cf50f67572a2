import type { Trade } from '../../market/trade.js';
import type { RejectReason } from '../events.js';
import type { FrameSink, VenueAdapter } from '../venue.js';

/** Runs `frames` through `adapter` and returns what came out, for adapter tests. */
export function parseAll(adapter: VenueAdapter, frames: readonly string[], receiveTime = 1) {
  const trades: Trade[] = [];
  const rejects: RejectReason[] = [];
  const sink: FrameSink = { trade: (t) => trades.push(t), reject: (r) => rejects.push(r) };
  for (const f of frames) adapter.parse(f, receiveTime, sink);
  return { trades, rejects };
}
