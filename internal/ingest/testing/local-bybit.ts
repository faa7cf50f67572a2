import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Trade } from '../../market/trade.js';
import { closeLocal } from './local-binance.js';

/**
 * A local stand-in for Bybit v5 that speaks its real protocol, for tests: WebSocket on
 * `/v5/public/<category>` (`{"op":"subscribe","args":["publicTrade.BTCUSDT"]}` and `{"op":"ping"}`
 * answered as Bybit does), `publicTrade` frames of a few trades each (`T s S v p L i BT RPI seq`),
 * and REST `GET /v5/market/recent-trade` (the latest `limit` trades, at most 1,000 on linear and
 * 60 on spot, newest first, `execId` the stream's `i`). "Latest" is what the venue has published:
 * the trades up to the furthest one any connection has sent so far.
 *
 * Frames go out ten every 2 ms (a few thousand trades a second, like a busy Bybit market), so
 * that what the venue has published when a client asks REST is close to what it has read.
 */
export interface BybitConnectionScript {
  /** `[from, to)` tape index range, sent in order `perFrame` trades a frame. */
  readonly send: readonly [number, number];
  /** After the last frame: drop the connection (`drop`), keep it open and silent (`silent`). */
  readonly after: 'drop' | 'silent';
  /** Trades a frame. Default 3. */
  readonly perFrame?: number;
}

export interface LocalBybitOptions {
  readonly category: 'spot' | 'linear';
  /** The tape in trade order; `symbol` is Bybit's (`BTCUSDT`); `tradeId` is sent as is. */
  readonly trades: readonly Trade[];
  readonly script: (connection: number) => BybitConnectionScript | undefined;
}

export interface LocalBybit {
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly connections: number;
  /** REST requests served (path and query). */
  readonly restRequests: readonly string[];
  close(): Promise<void>;
}

/** A UUID-like id for a tape trade, as Bybit's linear trade ids look. */
export function bybitLinearId(tapeId: string): string {
  return `00000000-0000-5000-8000-${tapeId.padStart(12, '0')}`;
}

function element(t: Trade, seq: number): string {
  return `{"T":${t.eventTime},"s":"${t.symbol}","S":"${t.side === 'buy' ? 'Buy' : 'Sell'}","v":"${t.size}","p":"${t.price}","L":"PlusTick","i":"${t.tradeId}","BT":false,"RPI":false,"seq":${seq}}`;
}

export async function startLocalBybit(options: LocalBybitOptions): Promise<LocalBybit> {
  const restRequests: string[] = [];
  const sockets = new Set<WebSocket>();
  const maxLimit = options.category === 'spot' ? 60 : 1000;
  /** One past the furthest tape index any connection has sent. */
  let published = 0;

  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    restRequests.push(`${url.pathname}${url.search}`);
    const json = (body: string) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    if (url.pathname !== '/v5/market/recent-trade') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"retCode":404,"retMsg":"Not Found"}');
      return;
    }
    if (url.searchParams.get('category') !== options.category) {
      json('{"retCode":10001,"retMsg":"params error: category","result":{},"retExtInfo":{},"time":0}');
      return;
    }
    const symbol = url.searchParams.get('symbol') ?? '';
    const limit = Math.min(maxLimit, Number(url.searchParams.get('limit') ?? maxLimit));
    const rows: string[] = [];
    for (let i = published - 1; i >= 0 && rows.length < limit; i--) {
      const t = options.trades[i] as Trade;
      if (t.symbol !== symbol) continue;
      rows.push(
        `{"execId":"${t.tradeId}","symbol":"${t.symbol}","price":"${t.price}","size":"${t.size}","side":"${t.side === 'buy' ? 'Buy' : 'Sell'}","time":"${t.eventTime}","isBlockTrade":false,"isRPITrade":false,"seq":"${i}"}`,
      );
    }
    json(
      `{"retCode":0,"retMsg":"OK","result":{"category":"${options.category}","list":[${rows.join(',')}]},"retExtInfo":{},"time":${Date.now()}}`,
    );
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;

  const wss = new WebSocketServer({ server: http, path: `/v5/public/${options.category}` });
  let connections = 0;
  wss.on('connection', (ws) => {
    connections += 1;
    const n = connections;
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    const subscribed = new Set<string>();
    let started = false;
    ws.on('message', (data) => {
      let req: { op?: string; args?: unknown[]; req_id?: string };
      try {
        req = JSON.parse(data.toString());
      } catch {
        ws.send('{"success":false,"ret_msg":"invalid request","conn_id":"local","op":""}');
        return;
      }
      if (req.op === 'ping') {
        ws.send('{"success":true,"ret_msg":"pong","conn_id":"local","op":"ping"}');
        return;
      }
      if (req.op !== 'subscribe' || !Array.isArray(req.args)) {
        ws.send(`{"success":false,"ret_msg":"unsupported op","conn_id":"local","op":"${String(req.op)}"}`);
        return;
      }
      for (const a of req.args) if (typeof a === 'string' && a.startsWith('publicTrade.')) subscribed.add(a.slice(12));
      ws.send('{"success":true,"ret_msg":"","conn_id":"local","req_id":"","op":"subscribe"}');
      if (!started) {
        started = true;
        setTimeout(() => play(ws, n, subscribed), 20);
      }
    });
  });

  function play(ws: WebSocket, n: number, subscribed: Set<string>): void {
    const script = options.script(n);
    if (!script) return;
    const perFrame = script.perFrame ?? 3;
    const [from, to] = script.send;
    let i = from;
    const step = (): void => {
      if (ws.readyState !== ws.OPEN) return;
      for (let f = 0; f < 10 && i < to; f++) {
        const end = Math.min(to, i + perFrame);
        const data: string[] = [];
        for (; i < end; i++) {
          const t = options.trades[i] as Trade;
          if (subscribed.has(t.symbol)) data.push(element(t, i));
        }
        published = Math.max(published, end);
        if (data.length > 0)
          ws.send(
            `{"topic":"publicTrade.${options.trades[end - 1]?.symbol}","type":"snapshot","ts":${Date.now()},"data":[${data.join(',')}]}`,
          );
      }
      if (i < to) setTimeout(step, 2);
      else if (script.after === 'drop') setTimeout(() => ws.terminate(), 10);
    };
    step();
  }

  return {
    wsUrl: `ws://127.0.0.1:${port}/v5/public/${options.category}`,
    restUrl: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    restRequests,
    close: () => closeLocal(http, wss, sockets),
  };
}
