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
}

export interface LocalCapture {
  /** `ws://127.0.0.1:<port>` (Binance's adapter appends `/stream`), or with `wsPath` when it is not `/stream`. */
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
    wsPath,
    rest: () => ({ status: 404, body: '{}' }),
    connection(ws) {
      const log: string[] = [];
      received.push(log);
      const start = playOnce(() =>
        sendInTurns(ws, options.frames, { after: 'silent', perTurn: 50, sent: () => (sent += 1) }),
      );
      ws.on('message', (data) => {
        log.push(data.toString());
        start();
      });
    },
  });
  return {
    wsUrl: wsPath === '/stream' || wsPath === '/' ? `ws://127.0.0.1:${server.port}` : server.wsUrl,
    received,
    get sent() {
      return sent;
    },
    close: () => server.close(),
  };
}
