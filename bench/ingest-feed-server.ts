import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { encodeFrame, OPCODE } from '../internal/ingest/websocket/frame-writer.js';

/**
 * The venue side of bench/ingest.bench.ts's feed stage, in its own thread: a local WebSocket
 * server that, once a client subscribes, acknowledges it and sends the given Binance frames as
 * fast as TCP takes them.
 *
 * The frames are encoded as WebSocket frames before the client connects and written to the
 * socket in large chunks, so that sending costs this machine's two cores as little as possible:
 * the venue is not on the ingest machine in production, and a `ws` server sending a million
 * messages took about as much CPU as the ingest thread it fed.
 */
export interface FeedServerConfig {
  readonly kind: 'ingest-bench-feed-server';
  readonly frames: readonly string[];
}

/** `cpuMicros`: this thread's CPU so far (process.threadCpuUsage), for the bench to subtract. */
export type FeedServerReply =
  | { readonly type: 'listening'; readonly port: number; readonly cpuMicros: number }
  | { readonly type: 'sent'; readonly cpuMicros: number };

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Frames per pre-encoded chunk. */
const CHUNK = 10_000;

function threadCpu(): number {
  const c = process.threadCpuUsage();
  return c.user + c.system;
}

/** Unmasked server-to-client text frames, one after another. */
function encodeFrames(frames: readonly string[]): Buffer {
  return Buffer.concat(frames.map((f) => encodeFrame(OPCODE.text, Buffer.from(f, 'utf8'), null)));
}

function serve(config: FeedServerConfig): void {
  const port = parentPort!;
  const chunks: Buffer[] = [];
  for (let i = 0; i < config.frames.length; i += CHUNK) chunks.push(encodeFrames(config.frames.slice(i, i + CHUNK)));
  const http = createServer((_req, res) => res.writeHead(426).end());
  const sockets = new Set<Socket>();
  http.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const key = req.headers['sec-websocket-key'] ?? '';
    const accept = createHash('sha1').update(`${key}${WS_GUID}`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    // The client's first frame is its SUBSCRIBE (id 1: one connection, one request); its
    // content does not matter here.
    socket.once('data', async () => {
      // Anything the client sends after that is its close frame (the bench sends no pings):
      // answer it, or the client waits for its close timeout.
      socket.on('data', () => socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8])));
      socket.write(encodeFrames([JSON.stringify({ result: null, id: 1 })]));
      // All at once: libuv writes whenever the socket takes more, without this thread having to
      // wake up for each chunk.
      for (const chunk of chunks.slice(0, -1)) socket.write(chunk);
      await new Promise((ok) => socket.write(chunks.at(-1) ?? Buffer.alloc(0), ok));
      port.postMessage({ type: 'sent', cpuMicros: threadCpu() } satisfies FeedServerReply);
    });
    socket.on('error', () => {});
  });
  http.listen(0, '127.0.0.1', () => {
    const address = http.address() as { port: number };
    port.postMessage({ type: 'listening', port: address.port, cpuMicros: threadCpu() } satisfies FeedServerReply);
  });
  port.on('message', () => {
    for (const s of sockets) s.destroy();
    http.close();
    port.close();
  });
}

if (!isMainThread && (workerData as FeedServerConfig | undefined)?.kind === 'ingest-bench-feed-server') {
  serve(workerData as FeedServerConfig);
}
