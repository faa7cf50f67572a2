import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { WebSocketClient, type WebSocketClientOptions } from './client.js';

// A self-signed certificate for localhost and 127.0.0.1, for these tests only (valid to 2126):
// openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
//   -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1
const CERT = readFileSync(new URL('./testdata/localhost-cert.pem', import.meta.url));
const KEY = readFileSync(new URL('./testdata/localhost-key.pem', import.meta.url));

/** ws's frame reader, which its published types leave out. */
const { Receiver } = wsModule as unknown as {
  Receiver: new (options: {
    isServer: boolean;
  }) => NodeJS.WritableStream & {
    on(event: string, listener: (...args: never[]) => void): void;
  };
};

const OPTIONS: WebSocketClientOptions = { handshakeTimeoutMs: 2_000, maxPayload: 1 << 20, closeTimeoutMs: 1_000 };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Everything a client's handlers saw, with a promise for its close. */
function open(url: string, options: Partial<WebSocketClientOptions> = {}) {
  const seen = {
    opened: false,
    texts: [] as string[],
    binaries: [] as Buffer[],
    pongs: 0,
    errors: [] as string[],
    closes: [] as Array<{ code: number; reason: string }>,
  };
  let onText: (() => void) | undefined;
  let opened!: () => void;
  const openedP = new Promise<void>((r) => {
    opened = r;
  });
  let closed!: (c: { code: number; reason: string }) => void;
  const closedP = new Promise<{ code: number; reason: string }>((r) => {
    closed = r;
  });
  const client = new WebSocketClient(
    url,
    { ...OPTIONS, ...options },
    {
      open: () => {
        seen.opened = true;
        opened();
      },
      text: (d) => {
        seen.texts.push(d);
        onText?.();
      },
      binary: (d) => seen.binaries.push(Buffer.from(d)),
      pong: () => {
        seen.pongs += 1;
      },
      error: (err) => seen.errors.push(err.message),
      close: (code, reason) => {
        seen.closes.push({ code, reason });
        closed({ code, reason });
      },
    },
  );
  cleanups.push(() => client.terminate());
  const texts = (n: number) =>
    new Promise<string[]>((resolve) => {
      const check = () => {
        if (seen.texts.length >= n) resolve(seen.texts.slice(0, n));
      };
      onText = check;
      check();
    });
  return { client, seen, opened: openedP, closed: closedP, texts };
}

async function wsServer(extra: { server?: http.Server | https.Server } = {}) {
  const wss = extra.server
    ? new WebSocketServer({ server: extra.server })
    : new WebSocketServer({ host: '127.0.0.1', port: 0 });
  if (!extra.server) await new Promise<void>((r) => wss.once('listening', () => r()));
  const conns: WebSocket[] = [];
  wss.on('connection', (ws) => conns.push(ws));
  /** The n-th connection (1-based), once it is there. */
  const nth = async (n: number) => {
    await expect.poll(() => conns.length, { timeout: 3_000, interval: 5 }).toBeGreaterThanOrEqual(n);
    return conns[n - 1] as WebSocket;
  };
  const connected = nth(1);
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  );
  const port = ((extra.server ?? wss).address() as AddressInfo).port;
  return { wss, conns, connected, nth, port, url: `ws://127.0.0.1:${port}/stream?streams=a@trade` };
}

/** A client connected to a fresh `ws` server: the client, and the server's side of the connection. */
async function connectedPair() {
  const s = await wsServer();
  const c = open(s.url);
  const ws = await s.connected;
  await c.opened;
  return { s, c, ws };
}

/** An HTTP server whose upgrade requests `onUpgrade` answers by hand. */
async function rawServer(onUpgrade: (req: http.IncomingMessage, socket: Duplex) => void) {
  const server = http.createServer((_req, res) => {
    res.statusCode = 403;
    res.end('no');
  });
  // Upgraded sockets leave the server's books: they are destroyed here, or close() waits on them.
  const sockets = new Set<Duplex>();
  server.on('upgrade', (req, socket) => {
    sockets.add(socket);
    onUpgrade(req, socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

function accept(req: http.IncomingMessage): string {
  return createHash('sha1')
    .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
}

/** A correct 101 answer, then `bytes` as the server's first frames. */
function upgradeThen(bytes: Buffer, headers = '') {
  return (req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => {});
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(req)}\r\n${headers}\r\n`,
    );
    socket.write(bytes);
  };
}

/** What a client wrote to a raw server, decoded by ws's own (server-side) receiver. */
function clientFrames(socket: Duplex) {
  const got = { messages: [] as string[], closes: [] as number[] };
  const receiver = new Receiver({ isServer: true });
  receiver.on('message', (d: Buffer) => got.messages.push(d.toString()));
  receiver.on('conclude', (code: number) => {
    got.closes.push(code);
    socket.end();
  });
  receiver.on('error', () => {});
  socket.on('data', (c: Buffer) => receiver.write(c));
  return got;
}

describe('WebSocketClient against ws', () => {
  it('opens, and carries text both ways at every length encoding', async () => {
    const { c, ws } = await connectedPair();
    const received: string[] = [];
    ws.on('message', (d) => received.push(d.toString()));
    const sizes = [0, 1, 125, 126, 65_535, 65_536, 300_000];
    for (const n of sizes) ws.send('é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2));
    expect(await c.texts(sizes.length)).toEqual(sizes.map((n) => 'é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2)));
    for (const n of sizes) expect(c.client.send('ü'.repeat(n))).toBe(true);
    await expect.poll(() => received.length, { timeout: 3_000, interval: 5 }).toBe(sizes.length);
    expect(received).toEqual(sizes.map((n) => 'ü'.repeat(n)));
  });

  it('hands over binary messages as bytes', async () => {
    const { c, ws } = await connectedPair();
    ws.send(Buffer.from([0, 255, 1, 254]));
    await expect.poll(() => c.seen.binaries.length, { timeout: 3_000, interval: 5 }).toBe(1);
    expect([...(c.seen.binaries[0] as Buffer)]).toEqual([0, 255, 1, 254]);
  });

  it("answers the server's pings with the same payload, and hears pongs to its own", async () => {
    const { c, ws } = await connectedPair();
    const pongs: string[] = [];
    ws.on('pong', (d) => pongs.push(d.toString()));
    ws.ping('are you there');
    await expect.poll(() => pongs.length, { timeout: 3_000, interval: 5 }).toBe(1);
    expect(pongs).toEqual(['are you there']);
    expect(c.client.ping()).toBe(true);
    await expect.poll(() => c.seen.pongs, { timeout: 3_000, interval: 5 }).toBe(1);
  });

  it("echoes the server's close and reports its code and reason", async () => {
    const { c, ws } = await connectedPair();
    const serverSaw = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.close(4001, 'maintenance');
    expect(await c.closed).toEqual({ code: 4001, reason: 'maintenance' });
    expect(await serverSaw).toBe(4001);
    expect(c.client.state).toBe('closed');
    expect(c.seen.errors).toEqual([]);
  });

  it('closes with a handshake of its own', async () => {
    const { c, ws } = await connectedPair();
    const serverSaw = new Promise<[number, string]>((r) => ws.on('close', (code, why) => r([code, why.toString()])));
    c.client.close(1000, 'rotated');
    expect(c.client.state).toBe('closing');
    expect(c.client.send('late')).toBe(false);
    expect(await serverSaw).toEqual([1000, 'rotated']);
    expect((await c.closed).code).toBe(1000);
    expect(c.seen.closes).toHaveLength(1);
  });

  it('reports 1006 when the connection drops without a close frame', async () => {
    const { c, ws } = await connectedPair();
    ws.terminate();
    expect(await c.closed).toEqual({ code: 1006, reason: '' });
  });

  it('reads nothing while paused, and everything after resume', async () => {
    const { c, ws } = await connectedPair();
    c.client.pause();
    for (let i = 0; i < 5; i++) ws.send(`m${i}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.seen.texts).toEqual([]);
    c.client.resume();
    expect(await c.texts(5)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('stays paused when paused before the connection opened', async () => {
    const s = await wsServer();
    s.wss.on('connection', (ws) => ws.send('early'));
    const c = open(s.url);
    c.client.pause();
    await c.opened;
    await new Promise((r) => setTimeout(r, 100));
    expect(c.seen.texts).toEqual([]);
    c.client.resume();
    expect(await c.texts(1)).toEqual(['early']);
  });

  it('connects over TLS to a server it trusts, and refuses one it does not', async () => {
    const server = https.createServer({ cert: CERT, key: KEY });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const s = await wsServer({ server });
    for (const [i, host] of ['localhost', '127.0.0.1'].entries()) {
      const c = open(`wss://${host}:${s.port}/ws`, { ca: CERT });
      const ws = await s.nth(i + 1);
      await c.opened;
      ws.send('over tls');
      expect(await c.texts(1)).toEqual(['over tls']);
      c.client.close();
      await c.closed;
    }
    const untrusted = open(`wss://localhost:${s.port}/ws`);
    expect((await untrusted.closed).code).toBe(1006);
    expect(untrusted.seen.opened).toBe(false);
    expect(untrusted.seen.errors.join()).toMatch(/self[- ]signed/i);
  });
});

describe('WebSocketClient handshake failures', () => {
  it('refuses an HTTP answer other than 101', async () => {
    const s = await rawServer((_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
    const c = open(s.url);
    expect(await c.closed).toEqual({ code: 1006, reason: '' });
    expect(c.seen.errors).toEqual(['unexpected server response: 403']);
    expect(c.seen.opened).toBe(false);
  });

  it('refuses a wrong Sec-WebSocket-Accept, another protocol, and an extension or subprotocol it did not offer', async () => {
    const wrong = await rawServer((_req, socket) =>
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n',
      ),
    );
    const a = open(wrong.url);
    await a.closed;
    expect(a.seen.errors).toEqual(['the server sent a wrong Sec-WebSocket-Accept']);
    const other = await rawServer((req, socket) =>
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(req)}\r\n\r\n`,
      ),
    );
    const d = open(other.url);
    await d.closed;
    expect(d.seen.errors).toEqual(['the server did not upgrade to websocket']);
    const ext = await rawServer(upgradeThen(Buffer.alloc(0), 'Sec-WebSocket-Extensions: permessage-deflate\r\n'));
    const b = open(ext.url);
    await b.closed;
    expect(b.seen.errors).toEqual(['the server chose an extension not offered']);
    const proto = await rawServer(upgradeThen(Buffer.alloc(0), 'Sec-WebSocket-Protocol: chat\r\n'));
    const c = open(proto.url);
    await c.closed;
    expect(c.seen.errors).toEqual(['the server chose a subprotocol not offered']);
  });

  it('gives up a handshake that takes too long', async () => {
    const s = await rawServer(() => {});
    const started = Date.now();
    const c = open(s.url, { handshakeTimeoutMs: 200 });
    expect(await c.closed).toEqual({ code: 1006, reason: '' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(c.seen.errors).toEqual(['opening handshake timed out after 200 ms']);
  });

  it('reports a refused connection', async () => {
    const s = await rawServer(() => {});
    const url = s.url;
    await new Promise<void>((r) => s.server.close(() => r()));
    const c = open(url);
    await c.closed;
    expect(c.seen.errors.join()).toMatch(/ECONNREFUSED/);
  });

  it('gives up quietly when closed or terminated while connecting', async () => {
    const s = await rawServer(() => {});
    for (const stop of ['close', 'terminate'] as const) {
      const c = open(s.url);
      c.client[stop]();
      expect(await c.closed).toEqual({ code: 1006, reason: '' });
      expect(c.seen.errors).toEqual([]);
      expect(c.client.state).toBe('closed');
    }
  });

  it('refuses a URL that is not ws:// or wss://', () => {
    expect(() => open('http://127.0.0.1:1/')).toThrow(/ws:\/\/ or wss:\/\//);
  });
});

describe('WebSocketClient on a broken server', () => {
  const cases: Array<[string, Buffer, number]> = [
    ['a masked frame', Buffer.from([0x81, 0x81, 0, 0, 0, 0, 0x78]), 1002],
    ['text that is not UTF-8', Buffer.from([0x81, 0x02, 0xc3, 0x28]), 1007],
    ['a message over maxPayload', Buffer.from([0x82, 0x7e, 0xff, 0xff]), 1009],
    [
      'a flood of empty continuation frames',
      Buffer.concat([Buffer.from([0x01, 0x01, 0x78]), Buffer.alloc(2 * 2000)]),
      1009,
    ],
  ];
  for (const [name, bytes, code] of cases) {
    it(`closes with ${code} on ${name}, after the frames before it`, async () => {
      let written: ReturnType<typeof clientFrames> | undefined;
      const s = await rawServer((req, socket) => {
        written = clientFrames(socket);
        upgradeThen(Buffer.concat([Buffer.from([0x81, 0x02, 0x6f, 0x6b]), bytes]))(req, socket);
      });
      const c = open(s.url, { maxPayload: 1024 });
      expect((await c.closed).code).toBe(code);
      expect(c.seen.texts).toEqual(['ok']);
      expect(c.seen.errors).toHaveLength(1);
      // The server was told why, in a close frame with that code.
      await expect.poll(() => written?.closes.length ?? 0, { timeout: 3_000, interval: 5 }).toBeGreaterThan(0);
      expect(written?.closes).toEqual([code]);
    });
  }

  it('passes the bytes sent with the 101 answer to the reader', async () => {
    const s = await rawServer(upgradeThen(Buffer.from([0x81, 0x05, ...Buffer.from('first')])));
    const c = open(s.url);
    expect(await c.texts(1)).toEqual(['first']);
  });
});
