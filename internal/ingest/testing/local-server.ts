import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * The HTTP and WebSocket server under every local venue stand-in (local-binance.ts, local-okx.ts,
 * local-bybit.ts, local-kraken.ts): one port, REST requests recorded and answered by `rest`, WebSocket connections on `wsPath`
 * numbered from 1 and handed to `connection`. Close cuts every socket.
 */
export interface LocalServerOptions {
  /** The one path WebSocket connections are accepted on; `undefined`: every path. */
  readonly wsPath: string | undefined;
  /** Answers one REST request: status and JSON body. */
  rest(url: URL): { readonly status: number; readonly body: string };
  connection(ws: WebSocket, n: number, request: IncomingMessage): void;
}

export interface LocalServer {
  readonly port: number;
  /** `ws://127.0.0.1:<port><wsPath>`. */
  readonly wsUrl: string;
  /** `http://127.0.0.1:<port>`. */
  readonly restUrl: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** REST requests served (path and query). */
  readonly restRequests: readonly string[];
  close(): Promise<void>;
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const restRequests: string[] = [];
  const sockets = new Set<WebSocket>();
  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    restRequests.push(`${url.pathname}${url.search}`);
    const { status, body } = options.rest(url);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const wss = new WebSocketServer(
    options.wsPath === undefined ? { server: http } : { server: http, path: options.wsPath },
  );
  let connections = 0;
  wss.on('connection', (ws, request) => {
    connections += 1;
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    options.connection(ws, connections, request);
  });
  const port = (http.address() as AddressInfo).port;
  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}${options.wsPath ?? ''}`,
    restUrl: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    restRequests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.terminate();
        wss.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/**
 * A connection's start: runs `play` once, 20 ms after the first subscription, so that the
 * client's other subscribe requests arrive before the tape starts.
 */
export function playOnce(play: () => void): () => void {
  let started = false;
  return () => {
    if (started) return;
    started = true;
    setTimeout(play, 20);
  };
}

export interface SendOptions {
  /** After the last frame: drop the connection (`drop`), keep it open and silent (`silent`). */
  readonly after: 'drop' | 'silent';
  /** Frames a turn. Default 200. */
  readonly perTurn?: number;
  /** A turn every this many ms; 0 (default): every event-loop turn. */
  readonly everyMs?: number;
  /** Called with each frame's index once it is sent. */
  readonly sent?: (index: number) => void;
  /** Waits before sending frame i until its promise settles: a pause the test ends. */
  readonly holds?: ReadonlyMap<number, Promise<unknown>>;
}

/** Sends `frames` in turns, then drops the connection or keeps it open and silent. */
export function sendInTurns(ws: WebSocket, frames: readonly string[], options: SendOptions): void {
  const perTurn = options.perTurn ?? 200;
  let i = 0;
  let held = -1;
  const step = (): void => {
    if (ws.readyState !== ws.OPEN) return;
    const end = Math.min(frames.length, i + perTurn);
    for (; i < end; i++) {
      const hold = i === held ? undefined : options.holds?.get(i);
      if (hold) {
        held = i;
        void hold.finally(step);
        return;
      }
      ws.send(frames[i] as string);
      options.sent?.(i);
    }
    if (i < frames.length) {
      if (options.everyMs) setTimeout(step, options.everyMs);
      else setImmediate(step);
    } else if (options.after === 'drop') setTimeout(() => ws.terminate(), 10);
  };
  step();
}
