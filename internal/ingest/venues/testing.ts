import { readFileSync } from 'node:fs';
import { sharedData } from '../../../test/harness/shared-data.js';
import type { Trade } from '../../market/trade.js';
import type { RejectReason } from '../events.js';
import type { ParseOutput, VenueAdapter } from '../venue.js';

/** Runs `frames` through `adapter` and returns what came out, for adapter tests. */
export function parseAll(adapter: VenueAdapter, frames: readonly string[], receiveTime = 1) {
  const trades: Trade[] = [];
  const rejects: RejectReason[] = [];
  const sink: ParseOutput = { trade: (t) => trades.push(t), reject: (r) => rejects.push(r) };
  for (const f of frames) adapter.parse(f, receiveTime, sink);
  return { trades, rejects };
}

/** One frame a venue sent, from cryptofeed's capture format (shared/data/venue-ws-captures, SOURCE.md). */
export interface CapturedFrame {
  readonly conn: string;
  /** The connection's address, from its `connect` line. */
  readonly url: string;
  /** Receive time, epoch milliseconds. */
  readonly receiveTime: number;
  readonly data: string;
}

/** The received frames of a `*.jsonl` capture in shared/data/venue-ws-captures, in order. */
export function capturedFrames(file: string): CapturedFrame[] {
  const urls = new Map<string, string>();
  const out: CapturedFrame[] = [];
  for (const line of readFileSync(sharedData('venue-ws-captures', file), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const o = JSON.parse(line) as { t: string; conn?: string; ts?: number; addr?: string; data?: string };
    if (o.t === 'connect' && o.conn && o.addr) urls.set(o.conn, o.addr);
    if (o.t !== 'recv' || o.conn === undefined || o.data === undefined) continue;
    out.push({
      conn: o.conn,
      url: urls.get(o.conn) ?? '',
      receiveTime: Math.round((o.ts ?? 0) * 1000),
      data: o.data,
    });
  }
  return out;
}
