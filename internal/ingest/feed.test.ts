import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { silentLogger } from '../observe/logger.js';
import { Feed, type FeedEvent, type FeedOptions } from './feed.js';

interface Server {
  readonly url: string;
  readonly wss: WebSocketServer;
  /** Every connection ever accepted, in order, with the messages it received. */
  readonly conns: Array<{ ws: WebSocket; received: Array<{ at: number; text: string }>; closed: boolean }>;
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(onConnection: (ws: WebSocket, n: number) => void, autoPong = true): Promise<Server> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const conns: Server['conns'] = [];
  wss.on('connection', (ws) => {
    const entry = { ws, received: [] as Array<{ at: number; text: string }>, closed: false };
    conns.push(entry);
    ws.on('message', (data) => entry.received.push({ at: Date.now(), text: data.toString() }));
    ws.on('close', () => {
      entry.closed = true;
    });
    onConnection(ws, conns.length);
  });
  const server: Server = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    wss,
    conns,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
  servers.push(server);
  return server;
}

function feedOptions(url: string, extra: Partial<FeedOptions> = {}): FeedOptions {
  return {
    venue: 'test',
    plan: { url, subscribe: [], symbols: ['X'] },
    logger: silentLogger(),
    reconnectInitialDelayMs: 10,
    reconnectMaxDelayMs: 50,
    ...extra,
  };
}

/** Collects events until `until` says stop, then aborts the feed. */
async function collect(feed: Feed, until: (events: FeedEvent[]) => boolean, timeoutMs = 10_000) {
  const controller = new AbortController();
  const events: FeedEvent[] = [];
  const timer = setTimeout(() => controller.abort(new Error('timeout')), timeoutMs);
  for await (const ev of feed.events(controller.signal)) {
    events.push(ev);
    if (until(events)) controller.abort(new Error('done'));
  }
  clearTimeout(timer);
  return { events, reason: controller.signal.reason as Error };
}

const frames = (events: FeedEvent[]) => events.flatMap((e) => (e.kind === 'frame' ? [e.data] : []));

describe('feed base', () => {
  it('subscribes no faster than the venue allows and delivers frames in order', async () => {
    const server = await startServer((ws) => {
      ws.on('message', () => {
        if (server.conns[0]?.received.length === 3) for (let i = 0; i < 100; i++) ws.send(`f${i}`);
      });
    });
    const feed = new Feed(
      feedOptions(server.url, {
        plan: { url: server.url, subscribe: ['s1', 's2', 's3'], symbols: ['X'], maxOutgoingPerSecond: 10 },
      }),
    );
    const { events, reason } = await collect(feed, (ev) => frames(ev).length === 100);
    expect(reason.message).toBe('done');
    expect(events[0]).toMatchObject({ kind: 'open', rotation: false });
    expect(frames(events)).toEqual(Array.from({ length: 100 }, (_, i) => `f${i}`));
    const got = server.conns[0]?.received ?? [];
    expect(got.map((m) => m.text)).toEqual(['s1', 's2', 's3']);
    // 10/s: the three messages span at least two intervals (less 20 ms of observation jitter).
    expect((got[2]?.at ?? 0) - (got[0]?.at ?? 0)).toBeGreaterThanOrEqual(180);
  });

  it('reconnects when the venue drops the connection, and resubscribes', async () => {
    const server = await startServer((ws, n) => {
      ws.once('message', () => {
        ws.send(`hello ${n}`);
        if (n === 1) setTimeout(() => ws.terminate(), 20);
      });
    });
    const feed = new Feed(feedOptions(server.url, { plan: { url: server.url, subscribe: ['sub'], symbols: ['X'] } }));
    const { events } = await collect(feed, (ev) => frames(ev).includes('hello 2'));
    expect(events.map((e) => e.kind)).toEqual(['open', 'frame', 'close', 'open', 'frame']);
    expect(events[2]).toMatchObject({ kind: 'close', reason: 'venue-closed' });
    expect(server.conns.map((c) => c.received.map((m) => m.text))).toEqual([['sub'], ['sub']]);
    // The first open is no reconnect; the second says how long the feed was down.
    expect(events[0]).not.toHaveProperty('downMs');
    expect((events[3] as { downMs?: number }).downMs).toBeGreaterThanOrEqual(0);
  });

  it('closes with 1009 on a message over maxMessageBytes, and reconnects', async () => {
    const server = await startServer((ws, n) => {
      ws.send('small');
      if (n === 1) ws.send('x'.repeat(2_000));
      ws.send('after');
    });
    const feed = new Feed(feedOptions(server.url, { maxMessageBytes: 1_000 }));
    const { events } = await collect(feed, (ev) => frames(ev).filter((f) => f === 'after').length === 1);
    expect(frames(events)).toEqual(['small', 'small', 'after']);
    expect(events.find((e) => e.kind === 'close')).toMatchObject({ reason: 'message-too-big', code: 1009 });
    expect(server.conns).toHaveLength(2);
  });

  it('closes with 1009 on a flood of empty continuation frames, and reconnects', async () => {
    const server = await startServer((ws, n) => {
      if (n === 1) {
        ws.send('x', { fin: false });
        for (let i = 0; i < 5_000; i++) ws.send('', { fin: false });
      } else ws.send('fine');
    });
    const feed = new Feed(feedOptions(server.url, { maxFragments: 100 }));
    const { events } = await collect(feed, (ev) => frames(ev).includes('fine'));
    expect(events.find((e) => e.kind === 'close')).toMatchObject({ reason: 'too-many-fragments', code: 1009 });
    expect(frames(events)).toEqual(['fine']);
  });

  it('closes a connection that goes silent and opens a new one', async () => {
    const server = await startServer((ws, n) => {
      ws.send(`first ${n}`);
    });
    const feed = new Feed(feedOptions(server.url, { staleAfterMs: 200 }));
    const started = Date.now();
    const { events } = await collect(feed, (ev) => frames(ev).includes('first 2'));
    expect(events.find((e) => e.kind === 'close')).toMatchObject({ reason: 'stale' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(server.conns[0]?.closed).toBe(true);
  });

  it('closes a connection whose pings go unanswered', async () => {
    const server = await startServer((ws, n) => ws.send(`first ${n}`), false);
    const feed = new Feed(feedOptions(server.url, { pingIntervalMs: 50, pongTimeoutMs: 100, staleAfterMs: 0 }));
    const { events } = await collect(feed, (ev) => frames(ev).includes('first 2'));
    expect(events.find((e) => e.kind === 'close')).toMatchObject({ reason: 'pong-timeout' });
  });

  it('keeps a connection whose pings are answered and sends the venue keepalive', async () => {
    const server = await startServer(() => {});
    const feed = new Feed(
      feedOptions(server.url, {
        pingIntervalMs: 30,
        pongTimeoutMs: 60,
        staleAfterMs: 0,
        plan: { url: server.url, subscribe: [], symbols: ['X'], keepalive: { message: 'ping', intervalMs: 50 } },
      }),
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('done')), 400);
    const events: FeedEvent[] = [];
    for await (const ev of feed.events(controller.signal)) events.push(ev);
    expect(events.map((e) => e.kind)).toEqual(['open']);
    expect(server.conns).toHaveLength(1);
    expect(server.conns[0]?.received.filter((m) => m.text === 'ping').length).toBeGreaterThanOrEqual(4);
  });

  it('retries with backoff until the venue is reachable', async () => {
    const probe = await startServer(() => {});
    const url = probe.url;
    await probe.close();
    servers.splice(servers.indexOf(probe), 1);
    const feed = new Feed(feedOptions(url, { reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 100 }));
    const controller = new AbortController();
    const events: FeedEvent[] = [];
    const iterate = (async () => {
      for await (const ev of feed.events(controller.signal)) {
        events.push(ev);
        if (ev.kind === 'frame') controller.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toEqual([]); // failed handshakes are not connections
    const port = Number(new URL(url).port);
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    wss.on('connection', (ws) => ws.send('up'));
    await iterate;
    await new Promise<void>((r) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => r());
    });
    expect(frames(events)).toEqual(['up']);
  });

  it('replaces a connection at its maximum age without a visible reconnect', async () => {
    let sent = 0;
    const server = await startServer((ws, n) => {
      const t = setInterval(() => {
        if (ws.readyState === ws.OPEN) ws.send(`c${n}:${sent++}`);
      }, 5);
      ws.on('close', () => clearInterval(t));
    });
    const feed = new Feed(
      feedOptions(server.url, { plan: { url: server.url, subscribe: [], symbols: ['X'], maxLifetimeMs: 150 } }),
    );
    const { events } = await collect(feed, (ev) => frames(ev).some((f) => f.startsWith('c3:')));
    expect(events.filter((e) => e.kind === 'close')).toEqual([]);
    expect(events.filter((e) => e.kind === 'open').map((e) => e.kind === 'open' && e.rotation)).toEqual([
      false,
      true,
      true,
    ]);
    // Each connection's frames are contiguous: once the next one speaks, the old one is silent.
    const order = frames(events).map((f) => Number(f.slice(1, f.indexOf(':'))));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(server.conns[0]?.closed).toBe(true);
  });

  it('pauses the socket when the consumer is slow and loses nothing', async () => {
    const total = 5_000;
    // 4 KB frames, 20 MB in all: far more than the kernel and ws buffer while the socket is paused
    // (a paused socket still delivers what it holds). With tiny frames all of them arrived in one
    // read on a loaded machine, and the queue legitimately held every one.
    const pad = 'x'.repeat(4_096);
    const server = await startServer((ws) => {
      for (let i = 0; i < total; i++) ws.send(`m${i}:${pad}`);
    });
    const feed = new Feed(feedOptions(server.url, { queueCapacity: 100 }));
    const controller = new AbortController();
    const got: string[] = [];
    let maxDepth = 0;
    for await (const ev of feed.events(controller.signal)) {
      maxDepth = Math.max(maxDepth, feed.queueDepth);
      if (ev.kind !== 'frame') continue;
      got.push(ev.data.slice(0, ev.data.indexOf(':')));
      if (got.length % 500 === 0) await new Promise((r) => setTimeout(r, 5));
      if (got.length === total) controller.abort();
    }
    expect(got).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
    expect(maxDepth).toBeLessThan(total);
  });

  it('pauses the socket on queued bytes as well as frames, and loses nothing', async () => {
    const total = 400;
    // 64 KB frames, 26 MB in all, against 10,000 frames or 1 MB queued.
    const pad = 'x'.repeat(65_536);
    const server = await startServer((ws) => {
      for (let i = 0; i < total; i++) ws.send(`m${i}:${pad}`);
    });
    const feed = new Feed(feedOptions(server.url, { maxQueueBytes: 1 << 20 }));
    const controller = new AbortController();
    const got: string[] = [];
    let maxBytes = 0;
    for await (const batch of feed.batches(controller.signal)) {
      maxBytes = Math.max(
        maxBytes,
        batch.reduce((n, ev) => n + (ev.kind === 'frame' ? ev.data.length : 0), 0),
      );
      for (const ev of batch) if (ev.kind === 'frame') got.push(ev.data.slice(0, ev.data.indexOf(':')));
      // A slow consumer: everything the venue sent would be queued by the next batch.
      await new Promise((r) => setTimeout(r, 30));
      if (got.length === total) controller.abort();
    }
    expect(got).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
    // The bound, the message that crossed it, and what the paused socket still held in its buffers
    // (without the bound in bytes, a batch held 4 to 8 MB here).
    expect(maxBytes).toBeLessThan(2 << 20);
  });

  it('hands over every frame queued since the last batch at once, in order', async () => {
    const total = 2_000;
    const server = await startServer((ws) => {
      for (let i = 0; i < total; i++) ws.send(`m${i}`);
    });
    const feed = new Feed(feedOptions(server.url));
    const controller = new AbortController();
    const got: string[] = [];
    const sizes: number[] = [];
    for await (const batch of feed.batches(controller.signal)) {
      const frames = batch.filter((ev) => ev.kind === 'frame');
      sizes.push(frames.length);
      for (const ev of frames) got.push(ev.data);
      // A slow consumer: what arrives meanwhile waits for the next batch.
      await new Promise((r) => setTimeout(r, 20));
      if (got.length === total) controller.abort();
    }
    expect(got).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(sizes.length).toBeLessThan(total / 10);
  });

  it('is consumed once', async () => {
    const server = await startServer((ws) => ws.send('x'));
    const feed = new Feed(feedOptions(server.url));
    await collect(feed, (ev) => frames(ev).length === 1);
    await expect(feed.batches(new AbortController().signal).next()).rejects.toThrow(/consumed once/);
  });

  it('stops on abort and closes the socket', async () => {
    const server = await startServer((ws) => ws.send('x'));
    const feed = new Feed(feedOptions(server.url));
    await collect(feed, (ev) => frames(ev).length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.conns[0]?.closed).toBe(true);
    expect(server.conns).toHaveLength(1);
  });
});
