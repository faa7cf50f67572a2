import type { WebSocket } from 'ws';
import type { Trade } from '../../market/trade.js';
import { type LocalServer, playOnce, sendInTurns, startLocalServer } from './local-server.js';

/**
 * A local stand-in for Bybit v5 that speaks its real protocol, for tests: WebSocket on
 * `/v5/public/<category>` (`{"op":"subscribe","args":["publicTrade.BTCUSDT"]}` and `{"op":"ping"}`
 * answered as Bybit does), `publicTrade` frames of a few trades each (`T s S v p L i BT RPI seq`),
 * and REST `GET /v5/market/recent-trade` (the latest `limit` trades, at most 1,000 on linear and
 * 60 on spot, newest first, `execId` the stream's `i`). "Latest" is what the venue has published:
 * the trades up to the furthest one any connection has sent so far.
 *
 * Frames go out ten every 2 ms (about 15,000 trades a second), so that what the venue has
 * published when a client asks REST is close to what the client has read. A frame holds trades
 * of one symbol, as Bybit's do (the tests' tapes have one).
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

export type LocalBybit = LocalServer;

/** A UUID-like id for a tape trade, as Bybit's linear trade ids look. */
export function bybitLinearId(tapeId: string): string {
  return `00000000-0000-5000-8000-${tapeId.padStart(12, '0')}`;
}

function element(t: Trade, seq: number): string {
  return `{"T":${t.eventTime},"s":"${t.symbol}","S":"${t.side === 'buy' ? 'Buy' : 'Sell'}","v":"${t.size}","p":"${t.price}","L":"PlusTick","i":"${t.tradeId}","BT":false,"RPI":false,"seq":${seq}}`;
}

export async function startLocalBybit(options: LocalBybitOptions): Promise<LocalBybit> {
  const maxLimit = options.category === 'spot' ? 60 : 1000;
  const path = `/v5/public/${options.category}`;
  /** One past the furthest tape index any connection has sent. */
  let published = 0;

  function rest(url: URL): { status: number; body: string } {
    if (url.pathname !== '/v5/market/recent-trade')
      return { status: 404, body: '{"retCode":404,"retMsg":"Not Found"}' };
    if (url.searchParams.get('category') !== options.category) {
      return {
        status: 200,
        body: '{"retCode":10001,"retMsg":"params error: category","result":{},"retExtInfo":{},"time":0}',
      };
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
    return {
      status: 200,
      body: `{"retCode":0,"retMsg":"OK","result":{"category":"${options.category}","list":[${rows.join(',')}]},"retExtInfo":{},"time":${Date.now()}}`,
    };
  }

  function connection(ws: WebSocket, n: number): void {
    const subscribed = new Set<string>();
    const start = playOnce(() => play(ws, n, subscribed));
    ws.on('message', (data) => {
      let req: { op?: string; args?: unknown[] };
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
      start();
    });
  }

  /** The script's trades, `perFrame` a frame (one symbol a frame), and the tape index each frame ends at. */
  function play(ws: WebSocket, n: number, subscribed: Set<string>): void {
    const script = options.script(n);
    if (!script) return;
    const perFrame = script.perFrame ?? 3;
    const [from, to] = script.send;
    const frames: string[] = [];
    const ends: number[] = [];
    for (let i = from; i < to; i += perFrame) {
      const end = Math.min(to, i + perFrame);
      const data = options.trades
        .slice(i, end)
        .map((t, k) => (subscribed.has(t.symbol) ? element(t, i + k) : ''))
        .filter(Boolean);
      if (data.length === 0) continue;
      frames.push(
        `{"topic":"publicTrade.${options.trades[i]?.symbol}","type":"snapshot","ts":${Date.now()},"data":[${data.join(',')}]}`,
      );
      ends.push(end);
    }
    sendInTurns(ws, frames, {
      after: script.after,
      perTurn: 10,
      everyMs: 2,
      sent: (k) => {
        published = Math.max(published, ends[k] as number);
      },
    });
  }

  return startLocalServer({ wsPath: path, rest, connection });
}
