import type { WebSocket } from 'ws';
import type { Trade } from '../../market/trade.js';
import { playOnce, sendInTurns, startLocalServer } from './local-server.js';

/**
 * A local stand-in for Binance that speaks its real protocol, for tests and benchmarks: combined
 * streams (`/stream`), `SUBSCRIBE` requests answered with `{"result":null,"id":N}`, `@trade`
 * frames exactly as Binance prints them, protocol pings answered, and the REST
 * `historicalTrades` endpoint for backfill. What each connection sends is scripted, so a test can
 * drop a connection, skip or repeat trades, go silent or interleave garbage.
 */
export interface ConnectionScript {
  /** Indexes into `trades` to send, in order, once the connection has subscribed. */
  readonly send: readonly number[];
  /** Raw frames to send instead of the trade at an index (malformed input), keyed by position in `send`. */
  readonly inject?: ReadonlyMap<number, string>;
  /** After the last frame: drop the connection (`drop`), keep it open and silent (`silent`). */
  readonly after: 'drop' | 'silent';
  /** Frames per event-loop turn; smaller spreads sending out. Default 500. */
  readonly burst?: number;
  /** Waits before sending position i until its promise settles: a pause the test ends. */
  readonly holds?: ReadonlyMap<number, Promise<unknown>>;
}

export interface LocalBinanceOptions {
  /** The exchange's whole tape, every symbol, in trade order. */
  readonly trades: readonly Trade[];
  /** What connection n (1-based) sends; connections past the script's end send nothing. */
  readonly script: (connection: number) => ConnectionScript | undefined;
  /** REST prefix: `/fapi/v1` (USD-M, default) or `/api/v3` (spot). */
  readonly restPrefix?: string;
}

export interface LocalBinance {
  readonly wsUrl: string;
  readonly restUrl: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** REST requests served (path and query). */
  readonly restRequests: readonly string[];
  /** Every message clients sent, per connection. */
  readonly received: ReadonlyArray<readonly string[]>;
  close(): Promise<void>;
}

/** A Trade as Binance prints it on `<symbol>@trade`. */
export function binanceTradeFrame(t: Trade, futures = true): string {
  const data = futures
    ? `{"e":"trade","E":${t.eventTime + 1},"T":${t.eventTime},"s":"${t.symbol}","t":${t.tradeId},"p":"${t.price}","q":"${t.size}","X":"MARKET","m":${t.side === 'sell'}}`
    : `{"e":"trade","E":${t.eventTime + 1},"s":"${t.symbol}","t":${t.tradeId},"p":"${t.price}","q":"${t.size}","T":${t.eventTime},"m":${t.side === 'sell'},"M":true}`;
  return `{"stream":"${t.symbol.toLowerCase()}@trade","data":${data}}`;
}

export async function startLocalBinance(options: LocalBinanceOptions): Promise<LocalBinance> {
  const restPrefix = options.restPrefix ?? '/fapi/v1';
  const received: string[][] = [];
  const bySymbolId = new Map<string, Map<number, Trade>>();
  for (const t of options.trades) {
    let m = bySymbolId.get(t.symbol);
    if (!m) {
      m = new Map();
      bySymbolId.set(t.symbol, m);
    }
    m.set(Number(t.tradeId), t);
  }

  function rest(url: URL): { status: number; body: string } {
    if (url.pathname !== `${restPrefix}/historicalTrades`)
      return { status: 404, body: '{"code":-1,"msg":"not found"}' };
    const symbol = url.searchParams.get('symbol') ?? '';
    const fromId = Number(url.searchParams.get('fromId'));
    const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? 500));
    const rows = [];
    const ids = bySymbolId.get(symbol);
    for (let id = fromId; ids && rows.length < limit; id++) {
      const t = ids.get(id);
      if (!t) break;
      rows.push({
        id: Number(t.tradeId),
        price: t.price,
        qty: t.size,
        quoteQty: '0',
        time: t.eventTime,
        isBuyerMaker: t.side === 'sell',
        isBestMatch: true,
      });
    }
    return { status: 200, body: JSON.stringify(rows) };
  }

  function connection(ws: WebSocket, n: number): void {
    const log: string[] = [];
    received.push(log);
    const subscribed = new Set<string>();
    const start = playOnce(() => play(ws, n, subscribed));
    ws.on('message', (data) => {
      const text = data.toString();
      log.push(text);
      let req: { method?: string; params?: string[]; id?: number };
      try {
        req = JSON.parse(text);
      } catch {
        ws.send('{"error":{"code":3,"msg":"Invalid JSON"}}');
        return;
      }
      if (req.method !== 'SUBSCRIBE' || !Array.isArray(req.params)) {
        ws.send(JSON.stringify({ error: { code: 2, msg: 'Invalid request' }, id: req.id ?? null }));
        return;
      }
      for (const p of req.params) subscribed.add(p);
      ws.send(JSON.stringify({ result: null, id: req.id ?? null }));
      start();
    });
  }

  function play(ws: WebSocket, n: number, subscribed: Set<string>): void {
    const script = options.script(n);
    if (!script) return;
    const frames: string[] = [];
    const holds = new Map<number, Promise<unknown>>();
    script.send.forEach((index, i) => {
      const hold = script.holds?.get(i);
      if (hold) holds.set(frames.length, hold);
      const injected = script.inject?.get(i);
      const t = options.trades[index];
      if (injected !== undefined) frames.push(injected);
      else if (t && subscribed.has(`${t.symbol.toLowerCase()}@trade`)) frames.push(binanceTradeFrame(t));
    });
    sendInTurns(ws, frames, { after: script.after, perTurn: script.burst ?? 500, holds });
  }

  const server = await startLocalServer({ wsPath: '/stream', rest, connection });
  return {
    // Binance's base URL: the client appends `/stream?streams=...`.
    wsUrl: `ws://127.0.0.1:${server.port}`,
    restUrl: server.restUrl,
    get connections() {
      return server.connections;
    },
    restRequests: server.restRequests,
    received,
    close: () => server.close(),
  };
}

/** `[from, to)` as an index list. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
