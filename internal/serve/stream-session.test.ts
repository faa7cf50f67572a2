import { describe, expect, it } from 'vitest';
import { candle } from '../../test/contracts/store-contract.js';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import { candleSubject } from '../bus/subject-names.js';
import { silentLogger } from '../observe/logger.js';
import { createRegistry } from '../observe/metrics.js';
import { DEFAULT_API_CONFIG, type StreamConfig } from './api-config.js';
import { createApiMetrics } from './api-metrics.js';
import { streamRequestParser } from './stream-request.js';
import { CLOSE_POLICY, CLOSE_TOO_SLOW, StreamSession, type StreamSocket } from './stream-session.js';

const encoder = new TextEncoder();

/** A socket whose peer reads only when told to: bufferedAmount grows with every unread send. */
class FakeSocket implements StreamSocket {
  readonly sent: string[] = [];
  readonly pending: Array<{ text: string; cb: () => void }> = [];
  closed: { code: number; reason: string } | undefined;
  terminated = false;

  get bufferedAmount(): number {
    return this.pending.reduce((n, p) => n + p.text.length, 0);
  }
  send(text: string, cb: () => void): void {
    this.pending.push({ text, cb });
  }
  /** The peer reads everything queued so far. */
  flush(): void {
    for (const p of this.pending.splice(0)) {
      this.sent.push(p.text);
      p.cb();
    }
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  terminate(): void {
    this.terminated = true;
  }
  messages(): Array<{ type: string; [k: string]: unknown }> {
    return this.sent.map((t) => JSON.parse(t));
  }
}

function session(socket: FakeSocket, bus: MemoryBus, over: Partial<StreamConfig> = {}) {
  const registry = createRegistry({}, false);
  const metrics = createApiMetrics(registry);
  const s = new StreamSession({
    bus,
    socket,
    config: { ...DEFAULT_API_CONFIG.stream, ...over },
    metrics,
    logger: silentLogger(),
    parse: streamRequestParser(['1m']),
  });
  return { s, registry };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const SUBSCRIBE = JSON.stringify({ subscribe: { candles: { interval: '1m' } } });

describe('StreamSession', () => {
  it('a client that stops reading holds at most its buffer: the oldest are dropped, counted and reported', async () => {
    const bus = createMemoryBus();
    const socket = new FakeSocket();
    const { s, registry } = session(socket, bus, { bufferMessages: 10, maxSocketBytes: 2_000, slowClientMs: 60_000 });
    s.onMessage(SUBSCRIBE);
    socket.flush();
    const candles = Array.from({ length: 200 }, (_, i) => candle({ closed: false, trades: i + 1 }));
    for (const c of candles) {
      bus.publish(candleSubject('partial', c), encoder.encode(JSON.stringify(c)));
      await tick(0);
    }
    await tick(20);
    // Bounded: what the socket holds (just over maxSocketBytes) plus the 10 buffered messages.
    expect(socket.bufferedAmount).toBeLessThan(2_000 + 1_000);
    const queued = socket.pending.length;
    expect(queued).toBeLessThan(10);

    // The client reads again: it gets the newest messages, told first how many it lost.
    for (let i = 0; i < 50 && socket.pending.length > 0; i++) {
      socket.flush();
      await tick();
    }
    const got = socket.messages().filter((m) => m.type === 'candle');
    const dropped = socket.messages().filter((m) => m.type === 'dropped');
    expect(dropped.length).toBeGreaterThan(0);
    const lost = dropped.reduce((n, m) => n + (m.count as number), 0);
    expect(got.length + lost).toBe(200);
    expect(dropped.at(-1)!.total).toBe(lost);
    expect(s.dropped).toBe(lost);
    // The newest update always arrives; what is lost is older.
    expect((got.at(-1)!.data as { trades: number }).trades).toBe(200);
    const trades = got.map((m) => (m.data as { trades: number }).trades);
    expect([...trades].sort((a, b) => a - b)).toEqual(trades);
    expect(await registry.getSingleMetricAsString('tickmesh_api_stream_dropped_total')).toMatch(
      new RegExp(`tickmesh_api_stream_dropped_total ${lost}`),
    );
    s.close();
    await bus.close();
  });

  it('closes a client whose socket stays full for slowClientMs with 1013, then terminates it', async () => {
    const bus = createMemoryBus();
    const socket = new FakeSocket();
    const { s, registry } = session(socket, bus, { bufferMessages: 5, maxSocketBytes: 100, slowClientMs: 150 });
    s.onMessage(SUBSCRIBE);
    for (let i = 1; i <= 20; i++) {
      const c = candle({ closed: false, trades: i });
      bus.publish(candleSubject('partial', c), encoder.encode(JSON.stringify(c)));
    }
    await tick(400);
    expect(socket.closed?.code).toBe(CLOSE_TOO_SLOW);
    expect(socket.closed?.reason).toMatch(/too slow/);
    expect(await registry.getSingleMetricAsString('tickmesh_api_stream_slow_closes_total')).toMatch(/ 1$/m);
    // Closed sessions take nothing more from the bus.
    const before = socket.pending.length;
    const c = candle({ closed: false, trades: 99 });
    bus.publish(candleSubject('partial', c), encoder.encode(JSON.stringify(c)));
    await tick(20);
    expect(socket.pending.length).toBe(before);
    await tick(2_100);
    expect(socket.terminated).toBe(true);
    await bus.close();
  });

  it('replies to bad messages count against the send bound: a client that reads none of them is closed', async () => {
    const bus = createMemoryBus();
    const socket = new FakeSocket();
    const { s } = session(socket, bus, { maxSocketBytes: 4_000, messagesPerSecond: 1_000_000 });
    // Wrong in every one of 32 filters: the parser's complaint would be many times the message.
    const bad = JSON.stringify({
      subscribe: { candles: Array.from({ length: 32 }, () => ({ interval: 'x', exchange: '', kind: 'yy' })) },
    });
    expect(bad.length).toBeGreaterThan(1_400);
    s.onMessage(bad);
    expect(socket.pending[0]!.text.length).toBeLessThan(400);
    for (let i = 0; i < 5_000 && !socket.closed; i++) s.onMessage(bad);
    expect(socket.closed).toEqual({ code: CLOSE_TOO_SLOW, reason: 'too slow: more than 4000 bytes unread' });
    expect(socket.bufferedAmount).toBeLessThan(4_000 + 400);
    await bus.close();
  });

  it('asks for at most maxSubscriptions subjects, and closes a client that sends too fast with 1008', async () => {
    const bus = createMemoryBus();
    const socket = new FakeSocket();
    const { s, registry } = session(socket, bus, { maxSubscriptions: 2, messagesPerSecond: 5 });
    s.onMessage(JSON.stringify({ subscribe: { candles: [{ interval: '1m' }, { interval: '1m', exchange: 'okx' }] } }));
    s.onMessage(JSON.stringify({ subscribe: { candles: { interval: '1m' }, alerts: true, index: true } }));
    s.onMessage('binary', true);
    socket.flush();
    const [subscribed, refused, binary] = socket.messages();
    expect(subscribed).toMatchObject({ type: 'subscribed' });
    expect(refused).toEqual({ type: 'error', error: 'too many subscriptions: 3 subjects asked, at most 2' });
    expect(binary).toEqual({ type: 'error', error: 'send JSON text messages' });
    s.onMessage(SUBSCRIBE);
    s.onMessage(SUBSCRIBE);
    expect(socket.closed).toBeUndefined();
    s.onMessage(SUBSCRIBE);
    expect(socket.closed).toEqual({ code: CLOSE_POLICY, reason: 'too many messages: at most 5 per second' });
    const rejected = await registry.getSingleMetricAsString('tickmesh_api_stream_rejected_total');
    expect(rejected).toMatch(/reason="subscriptions"\} 1/);
    expect(rejected).toMatch(/reason="rate"\} 1/);
    await bus.close();
  });

  it('a resubscription replaces the previous one', async () => {
    const bus = createMemoryBus();
    const socket = new FakeSocket();
    const { s } = session(socket, bus);
    s.onMessage(SUBSCRIBE);
    s.onMessage(JSON.stringify({ subscribe: { candles: { interval: '1m', exchange: 'okx' } } }));
    const binance = candle({ closed: false });
    const okx = candle({ exchange: 'okx', closed: false });
    bus.publish(candleSubject('partial', binance), encoder.encode(JSON.stringify(binance)));
    bus.publish(candleSubject('partial', okx), encoder.encode(JSON.stringify(okx)));
    await tick(20);
    socket.flush();
    const data = socket.messages().filter((m) => m.type === 'candle');
    expect(data.map((m) => (m.data as { exchange: string }).exchange)).toEqual(['okx']);
    // Nothing subscribed: nothing sent.
    s.onMessage(JSON.stringify({ subscribe: {} }));
    bus.publish(candleSubject('partial', okx), encoder.encode(JSON.stringify({ ...okx, trades: 99 })));
    await tick(20);
    socket.flush();
    expect(socket.messages().filter((m) => m.type === 'candle')).toHaveLength(1);
    s.close();
    await bus.close();
  });
});
