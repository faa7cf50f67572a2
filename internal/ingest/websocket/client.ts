import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { ProtocolError } from '../../runtime/errors.js';
import { FrameReader } from './frame-reader.js';
import { closePayload, encodeFrame, OPCODE } from './frame-writer.js';

/**
 * A WebSocket client (RFC 6455) for venue feeds: the HTTP upgrade over http or https (Node's
 * own), then frames read by FrameReader and written by encodeFrame. No extension or subprotocol
 * is offered, and a server that answers with one is refused. Pings are answered at once.
 *
 * `ws` did this before. Its receiver was a large share of an ingest process's CPU at full rate:
 * several Buffer views, two events and a native UTF-8 check per frame (docs/BENCHMARKS.md,
 * ingest, seventh round). `ws` still serves the tests' local exchanges and the API's stream.
 *
 * Handlers run synchronously from socket events. `close` comes exactly once and last, also when
 * the handshake fails (after `error`).
 */
export interface WebSocketClientOptions {
  /** The whole opening handshake, TCP and TLS included, must finish within this. */
  readonly handshakeTimeoutMs: number;
  /** The largest message accepted, in bytes; a larger one closes the connection with 1009. */
  readonly maxPayload: number;
  /** The most frames one message may span, empty continuations included; more close with 1009. Default 1024. */
  readonly maxFragments?: number;
  /** Our close frame unanswered for this long ends the connection anyway. Default 10 s. */
  readonly closeTimeoutMs?: number;
  /** Certificates to trust for wss:// instead of Node's default ones (a private testnet, a test server). */
  readonly ca?: string | Buffer;
  /** Opens the connection instead of a direct one: a proxy's CONNECT tunnel (internal/ingest/proxy). */
  readonly agent?: http.Agent;
}

export interface WebSocketHandlers {
  open(): void;
  text(data: string): void;
  binary(data: Buffer): void;
  pong(): void;
  error(err: Error): void;
  /**
   * The end of the connection: the peer's close code (1005 when its close frame had none), a
   * protocol error's code, or 1006 when the connection ended without a close frame.
   */
  close(code: number, reason: string): void;
}

export type ReadyState = 'connecting' | 'open' | 'closing' | 'closed';

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const EMPTY = Buffer.alloc(0);

export class WebSocketClient {
  private stateNow: ReadyState = 'connecting';
  private readonly request: http.ClientRequest;
  private socket: Duplex | undefined;
  private readonly key = randomBytes(16).toString('base64');
  private handshakeTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private closeSent = false;
  /** The peer's close frame, or the protocol error that ended the connection. */
  private ending: { code: number; reason: string } | undefined;

  constructor(
    url: string,
    private readonly options: WebSocketClientOptions,
    private readonly handlers: WebSocketHandlers,
  ) {
    const u = new URL(url);
    if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
      throw new TypeError(`a WebSocket URL must start with ws:// or wss://, not ${u.protocol}//`);
    }
    const secure = u.protocol === 'wss:';
    const requestOptions: https.RequestOptions = {
      host: u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname,
      port: u.port || (secure ? 443 : 80),
      path: `${u.pathname}${u.search}`,
      // A connection of its own: an upgraded socket never goes back to a pool. A proxy's agent
      // opens one tunnel per request; it reads the protocol to know whether to speak TLS inside.
      agent: options.agent ?? false,
      protocol: u.protocol === 'wss:' ? 'https:' : 'http:',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': this.key,
        'Sec-WebSocket-Version': '13',
      },
      ...(secure && options.ca !== undefined ? { ca: options.ca } : {}),
    };
    this.request = (secure ? https : http).request(requestOptions);
    this.handshakeTimer = setTimeout(
      () => this.abortHandshake(new Error(`opening handshake timed out after ${options.handshakeTimeoutMs} ms`)),
      options.handshakeTimeoutMs,
    );
    this.request.on('error', (err) => this.abortHandshake(err));
    this.request.on('response', (res) => {
      res.resume();
      this.abortHandshake(new Error(`unexpected server response: ${res.statusCode}`));
    });
    this.request.on('upgrade', (res, socket, head) => this.upgraded(res, socket, head));
    this.request.end();
  }

  get state(): ReadyState {
    return this.stateNow;
  }

  /** Sends a text message; false (and nothing sent) unless the connection is open. */
  send(text: string): boolean {
    return this.write(OPCODE.text, Buffer.from(text, 'utf8'));
  }

  ping(): boolean {
    return this.write(OPCODE.ping, EMPTY);
  }

  /** Starts the closing handshake; before the connection opened, gives the attempt up. */
  close(code = 1000, reason = ''): void {
    if (this.stateNow === 'connecting') {
      this.abortHandshake(undefined);
      return;
    }
    if (this.stateNow !== 'open') return;
    this.stateNow = 'closing';
    this.sendClose(code, reason);
    this.armCloseTimer();
  }

  /** Ends the connection at once, without a closing handshake. */
  terminate(): void {
    if (this.stateNow === 'connecting') {
      this.abortHandshake(undefined);
      return;
    }
    this.socket?.destroy();
  }

  /** Stops reading from the socket (TCP then pushes back on the peer) until `resume`. */
  pause(): void {
    this.paused = true;
    this.socket?.pause();
  }

  resume(): void {
    this.paused = false;
    this.socket?.resume();
  }

  private upgraded(res: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.stateNow !== 'connecting') {
      socket.destroy();
      return;
    }
    const expected = createHash('sha1')
      .update(this.key + ACCEPT_GUID)
      .digest('base64');
    let refused: string | undefined;
    if (res.headers.upgrade?.toLowerCase() !== 'websocket') refused = 'the server did not upgrade to websocket';
    else if (res.headers['sec-websocket-accept'] !== expected) refused = 'the server sent a wrong Sec-WebSocket-Accept';
    else if (res.headers['sec-websocket-extensions'] !== undefined)
      refused = 'the server chose an extension not offered';
    else if (res.headers['sec-websocket-protocol'] !== undefined)
      refused = 'the server chose a subprotocol not offered';
    if (refused) {
      socket.destroy();
      this.abortHandshake(new Error(refused));
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.socket = socket;
    this.stateNow = 'open';
    const reader = new FrameReader(
      {
        text: (data) => this.handlers.text(data),
        binary: (data) => this.handlers.binary(data),
        ping: (payload) => this.write(OPCODE.pong, payload),
        pong: () => this.handlers.pong(),
        close: (code, reason) => this.peerClosed(code, reason),
      },
      this.options.maxPayload,
      this.options.maxFragments,
    );
    if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    if (head.length > 0) socket.unshift(head);
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.failed(err);
      }
    });
    socket.on('error', (err) => {
      if (this.stateNow !== 'closed') this.handlers.error(err);
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => this.closed());
    if (this.paused) socket.pause();
    this.handlers.open();
  }

  /** The connection ended before it opened: `error` (unless we gave up), then `close`. */
  private abortHandshake(err: Error | undefined): void {
    if (this.stateNow !== 'connecting') return;
    this.stateNow = 'closed';
    clearTimeout(this.handshakeTimer);
    this.request.destroy();
    if (err) this.handlers.error(err);
    this.handlers.close(1006, '');
  }

  private peerClosed(code: number, reason: string): void {
    this.ending = { code, reason };
    if (!this.closeSent) {
      // Echo the peer's code, as RFC 6455 asks; a close without one is answered without one.
      this.stateNow = 'closing';
      this.sendClose(code === 1005 ? undefined : code, '');
    }
    this.socket?.end();
  }

  /** A frame broke the protocol, or a handler threw: tell the peer why and end the connection. */
  private failed(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    const code = err instanceof ProtocolError ? err.closeCode : 1011;
    this.ending ??= { code, reason: error.message };
    this.handlers.error(error);
    if (this.stateNow === 'open') {
      this.stateNow = 'closing';
      this.sendClose(code, '');
    }
    this.socket?.end();
    this.armCloseTimer();
  }

  /** A peer that does not end the connection within closeTimeoutMs of our close frame is cut off. */
  private armCloseTimer(): void {
    if (this.closeTimer) return;
    this.closeTimer = setTimeout(() => this.socket?.destroy(), this.options.closeTimeoutMs ?? 10_000);
    this.closeTimer.unref();
  }

  private closed(): void {
    if (this.stateNow === 'closed') return;
    this.stateNow = 'closed';
    clearTimeout(this.closeTimer);
    this.handlers.close(this.ending?.code ?? 1006, this.ending?.reason ?? '');
  }

  private sendClose(code: number | undefined, reason: string): void {
    if (this.closeSent) return;
    this.closeSent = true;
    this.socket?.write(encodeFrame(OPCODE.close, code === undefined ? EMPTY : closePayload(code, reason)));
  }

  private write(opcode: number, payload: Buffer): boolean {
    if (this.stateNow !== 'open' || !this.socket) return false;
    this.socket.write(encodeFrame(opcode, payload));
    return true;
  }
}
