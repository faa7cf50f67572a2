import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Trade } from '../../market/trade.js';

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
  const restRequests: string[] = [];
  const received: string[][] = [];
  const sockets = new Set<WebSocket>();
  const bySymbolId = new Map<string, Map<number, Trade>>();
  for (const t of options.trades) {
    let m = bySymbolId.get(t.symbol);
    if (!m) {
      m = new Map();
      bySymbolId.set(t.symbol, m);
    }
    m.set(Number(t.tradeId), t);
  }

  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    restRequests.push(`${url.pathname}${url.search}`);
    if (url.pathname !== `${restPrefix}/historicalTrades`) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":-1,"msg":"not found"}');
      return;
    }
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
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;

  const wss = new WebSocketServer({ server: http, path: '/stream' });
  let connections = 0;
  wss.on('connection', (ws) => {
    connections += 1;
    const n = connections;
    const log: string[] = [];
    received.push(log);
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    const subscribed = new Set<string>();
    let started = false;
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
      if (!started) {
        started = true;
        // Let the client's other SUBSCRIBE requests arrive before the tape starts.
        setTimeout(() => play(ws, n, subscribed), 20);
      }
    });
  });

  function play(ws: WebSocket, n: number, subscribed: Set<string>): void {
    const script = options.script(n);
    if (!script) return;
    const burst = script.burst ?? 500;
    let i = 0;
    let held = -1;
    const step = (): void => {
      if (ws.readyState !== ws.OPEN) return;
      const end = Math.min(script.send.length, i + burst);
      for (; i < end; i++) {
        const hold = i === held ? undefined : script.holds?.get(i);
        if (hold) {
          held = i;
          void hold.finally(step);
          return;
        }
        const injected = script.inject?.get(i);
        if (injected !== undefined) {
          ws.send(injected);
          continue;
        }
        const t = options.trades[script.send[i] as number];
        if (t && subscribed.has(`${t.symbol.toLowerCase()}@trade`)) ws.send(binanceTradeFrame(t));
      }
      if (i < script.send.length) setImmediate(step);
      else if (script.after === 'drop') setTimeout(() => ws.terminate(), 10);
    };
    step();
  }

  return {
    wsUrl: `ws://127.0.0.1:${port}`,
    restUrl: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    restRequests,
    received,
    close: () => closeLocal(http, wss, sockets),
  };
}

/** Stops a local exchange: its sockets cut, its WebSocket and HTTP servers closed. */
export function closeLocal(http: Server, wss: WebSocketServer, sockets: Set<WebSocket>): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const s of sockets) s.terminate();
    wss.close();
    http.closeAllConnections();
    http.close(() => resolve());
  });
}

/** `[from, to)` as an index list. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
