import { playOnce, sendInTurns, startLocalServer } from './local-server.js';

/**
 * A local stand-in that plays a venue's recorded frames back (a capture of
 * shared/data/venue-ws-captures or binance-ws-captures, as the venue sent them: trades, kline
 * pushes, book updates and all), for tests of the whole ingest path against what a venue really
 * sent. Each connection plays the tape once, in order, after the client's first message (its
 * subscribe request), then stays open and silent; what the client sent is kept. It answers no
 * request: the recorded frames are the venue's whole side of the conversation.
 */
export interface LocalCaptureOptions {
  /** The frames, in the order the venue sent them. */
  readonly frames: readonly string[];
  /** The path the client connects to: `/stream` for Binance's combined streams, `/` otherwise. */
  readonly wsPath?: string;
  /**
   * Other paths of the same server with their own tapes (OKX's candles on `/ws/v5/business`
   * beside its trades on `/ws/v5/public`); a connection to any other path plays `frames`.
   */
  readonly paths?: Readonly<Record<string, readonly string[]>>;
}

export interface LocalCapture {
  /** `ws://127.0.0.1:<port>` (Binance's adapter appends `/stream`), with `wsPath` when it is neither `/stream` nor `/`. */
  readonly wsUrl: string;
  /** Every message the clients sent, per connection. */
  readonly received: ReadonlyArray<readonly string[]>;
  /** Frames sent so far, over every connection. */
  readonly sent: number;
  close(): Promise<void>;
}

export async function startLocalCapture(options: LocalCaptureOptions): Promise<LocalCapture> {
  const wsPath = options.wsPath ?? '/';
  const received: string[][] = [];
  let sent = 0;
  const server = await startLocalServer({
    wsPath: options.paths === undefined ? wsPath : undefined,
    rest: () => ({ status: 404, body: '{}' }),
    connection(ws, _n, request) {
      const log: string[] = [];
      received.push(log);
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const frames = options.paths?.[path] ?? options.frames;
      const start = playOnce(() => sendInTurns(ws, frames, { after: 'silent', perTurn: 50, sent: () => (sent += 1) }));
      ws.on('message', (data) => {
        log.push(data.toString());
        start();
      });
    },
  });
  return {
    wsUrl: `ws://127.0.0.1:${server.port}${wsPath === '/stream' || wsPath === '/' ? '' : wsPath}`,
    received,
    get sent() {
      return sent;
    },
    close: () => server.close(),
  };
}
