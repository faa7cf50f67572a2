import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { referenceCandles } from '../../internal/actor/reference.js';
import { REJECT_REASONS } from '../../internal/ingest/events.js';
import { prng } from '../../internal/ingest/simulator.js';
import { binanceTradeFrame } from '../../internal/ingest/testing/local-binance.js';
import { type LocalServer, startLocalServer } from '../../internal/ingest/testing/local-server.js';
import { encodeFrame, OPCODE } from '../../internal/ingest/websocket/frame-writer.js';
import type { Candle } from '../../internal/market/candle.js';
import type { Trade } from '../../internal/market/trade.js';
import { spawnDev } from '../harness/dev-process.js';

/**
 * Issue 17's proof: `tickmesh dev` fed for minutes by a local Binance that mixes clean trades
 * with every kind of hostile frame the hardening covers (docs/SECURITY.md), while hostile
 * clients hammer its WebSocket API, stays up, keeps its memory flat and builds every clean
 * market's 1m candles exactly as the reference computes them from the clean trades alone.
 *
 * TICKMESH_SOAK_SECONDS sets how long the feed runs (default 120: at least one whole minute is
 * covered whatever second it starts at).
 */

const SECONDS = Number(process.env.TICKMESH_SOAK_SECONDS ?? 120);
const WARM_UP_MS = 30_000;
const SAMPLE_MS = 2_000;
/**
 * RSS may grow at most this much over the warm-up level (docs/SECURITY.md, "Soak test"), far
 * less than any of the leaks the hardening closed (their sizes are there).
 */
const RSS_BOUND_MB = 96;
/**
 * RSS may never exceed this. The bounds relative to the warm-up cannot see memory taken at once
 * in the first seconds (a trade dated 2099 arrives in the first hostile round): this one can,
 * with room above the peaks dev reached in the recorded runs (docs/SECURITY.md, "Soak test").
 */
const RSS_MAX_MB = 1_000;
/** The last third's median RSS at most this much above the middle third's: no upward trend. */
const TREND_BOUND_MB = 32;
/**
 * dev's V8 heap limit here. With the default (a share of the machine's memory) V8 lets garbage
 * pile up to hundreds of MB between full collections, so RSS measures its laziness rather than
 * what is live (docs/SECURITY.md, "Soak test"). Under this limit RSS follows what is live, and a
 * leak like the ends the process with an out-of-memory error, which the test sees.
 */
const HEAP_LIMIT_MB = 256;

/**
 * Sixteen markets: their candle updates to one client that subscribed to everything come to
 * about 150 KB/s, enough to fill what the kernel holds for a socket that is never read (about
 * 4 MB on loopback) and the API's 1 MiB send bound before the ping rule would cut it (60 s), so
 * that the slow-client close (1013) is the rule that ends it.
 */
const CLEAN = [
  'BTCUSDT',
  'ETHUSDT',
  'SOLUSDT',
  'BNBUSDT',
  'ADAUSDT',
  'DOGEUSDT',
  'DOTUSDT',
  'LTCUSDT',
  'LINKUSDT',
  'AVAXUSDT',
  'TRXUSDT',
  'ATOMUSDT',
  'NEARUSDT',
  'UNIUSDT',
  'FILUSDT',
  'APTUSDT',
] as const;
/** Subscribed, fed hostile trades and a trade id reset; its candles are not checked. */
const HOSTILE = 'XRPUSDT';

interface LogLine {
  msg?: string;
  [field: string]: unknown;
}

const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** The clean tape: trades made up in real time (event time now), ids consecutive per market. */
class CleanTape {
  readonly trades: Trade[] = [];
  private readonly rand = prng(17);
  private readonly next = new Map<string, number>();
  private readonly cents = new Map<string, number>();

  constructor() {
    CLEAN.forEach((s, i) => {
      this.next.set(s, 1_000_000 * (i + 1));
      this.cents.set(s, 100_000 * (i + 1));
    });
  }

  /** A few trades per clean market, dated now. */
  tick(): Trade[] {
    const now = Date.now();
    const made: Trade[] = [];
    for (const symbol of CLEAN) {
      const n = 1 + Math.floor(this.rand() * 3);
      for (let k = 0; k < n; k++) {
        const id = this.next.get(symbol) as number;
        this.next.set(symbol, id + 1);
        const cents = Math.max(100, (this.cents.get(symbol) as number) + Math.floor(this.rand() * 21) - 10);
        this.cents.set(symbol, cents);
        const t: Trade = {
          exchange: 'binance',
          symbol,
          market: `${symbol.slice(0, -4)}-USDT`,
          tradeId: String(id),
          price: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
          size: `0.${String(1 + Math.floor(this.rand() * 998)).padStart(3, '0')}`,
          side: this.rand() < 0.5 ? 'buy' : 'sell',
          eventTime: now,
          receiveTime: now,
        };
        made.push(t);
      }
    }
    this.trades.push(...made);
    return made;
  }
}

function spotFrame(t: Trade): string {
  return binanceTradeFrame(t, false);
}

/** A Binance spot trade frame with any field replaced, as JSON text. */
function hostileTrade(fields: Record<string, unknown>): string {
  const now = Date.now();
  const data = { e: 'trade', E: now, s: HOSTILE, t: 7, p: '1.5', q: '2', T: now, m: false, M: true, ...fields };
  return JSON.stringify({ stream: `${String(data.s).toLowerCase()}@trade`, data });
}

const YEAR_MS = 365 * 86_400_000;

/**
 * One round of every hostile trade-level frame, and two good trades of the hostile market
 * (`hostileId` numbers them). The refused trades all carry id 7, so that they never open a gap
 * in the hostile market's numbering (a gap would send ingest to Binance's REST API).
 */
function hostileRound(hostileId: { next: number }): string[] {
  const now = Date.now();
  const ok = () => hostileTrade({ t: hostileId.next++, T: Date.now() });
  return [
    '{"stream":"xrpusdt@trade","data":{"e":"trade"',
    'not json at all',
    '{"stream":"btcusdt@depth","data":{"e":"depthUpdate","b":[["1","2"]]}}',
    '{"result":null,"id":"x"}',
    '[1,2,3]',
    ok(),
    hostileTrade({ p: '-1' }),
    hostileTrade({ p: '0' }),
    hostileTrade({ p: 'NaN' }),
    hostileTrade({ p: 1.5 }),
    hostileTrade({ q: '0' }),
    hostileTrade({ q: '-0.5' }),
    hostileTrade({ q: 'NaN' }),
    hostileTrade({ t: '12\u00003' }),
    hostileTrade({ t: -4 }),
    hostileTrade({ s: 'XRP\u0000USDT' }),
    hostileTrade({ s: 'XRP\u0007USDT' }),
    hostileTrade({ s: 'ÄRPUSDT' }),
    hostileTrade({ T: Date.UTC(2099, 0, 1) }),
    hostileTrade({ T: now + YEAR_MS }),
    hostileTrade({ T: 'soon' }),
    hostileTrade({ m: 'yes' }),
    ok(),
  ];
}

interface Sample {
  readonly at: number;
  readonly rssMb: number;
  /** V8 heap in use, from dev's own metrics: RSS includes what the heap has not given back. */
  readonly heapMb: number;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) / 1024;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Sums a Prometheus counter's samples by one label. */
function counterBy(text: string, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const key = new RegExp(`${label}="([^"]*)"`).exec(line)?.[1] ?? '';
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

/** A decimal string without trailing fraction zeros, so that `1.50` and `1.5` compare equal. */
function dec(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

function ohlcv(c: Candle) {
  return {
    openTime: c.openTime,
    open: dec(c.open),
    high: dec(c.high),
    low: dec(c.low),
    close: dec(c.close),
    volume: dec(c.volume),
    quoteVolume: dec(c.quoteVolume),
    takerBuyVolume: dec(c.takerBuyVolume),
    trades: c.trades,
    firstTradeId: c.firstTradeId,
    lastTradeId: c.lastTradeId,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface StandIn {
  readonly server: LocalServer;
  readonly wsUrl: string;
  /** Connections closed by the client with 1009 (message-too-big or too-many-fragments). */
  readonly closes: number[];
  stop(): void;
}

/**
 * The local Binance: a combined stream that answers SUBSCRIBE, then sends the clean tape every
 * 100 ms with a hostile round every second and a duplicate of an older clean trade now and then.
 * Every `hostileCloseMs` it goes quiet for a moment (so that the clean trades already sent are
 * consumed), then sends a message the feed must refuse with 1009, alternately over 1 MiB and a
 * fragment flood; the feed reconnects and the new connection starts with the last clean trades
 * again (an overlap that dedupe absorbs) before the tape goes on.
 */
async function startStandIn(tape: CleanTape, hostileCloseMs: number): Promise<StandIn> {
  const closes: number[] = [];
  const hostileId = { next: 500_000 };
  let resetDone = false;
  let floods = 0;
  let sentUpTo = 0; // tape.trades[0, sentUpTo) went out on some connection
  let stopped = false;
  const rand = prng(1009);
  const server = await startLocalServer({
    wsPath: '/stream',
    rest: () => ({ status: 404, body: '{"code":-1,"msg":"not found"}' }),
    connection(ws) {
      ws.on('close', (code) => {
        if (code === 1009) closes.push(code);
      });
      let timer: NodeJS.Timeout | undefined;
      ws.on('close', () => clearInterval(timer));
      ws.on('message', (data) => {
        let req: { method?: string; params?: string[]; id?: number };
        try {
          req = JSON.parse(data.toString());
        } catch {
          return;
        }
        ws.send(JSON.stringify({ result: null, id: req.id ?? null }));
        if (timer || stopped) return;
        // The last clean trades again: an overlap in case the previous connection lost some.
        const overlap = tape.trades.slice(Math.max(0, sentUpTo - 200), sentUpTo);
        for (const t of overlap) ws.send(spotFrame(t));
        const opened = Date.now();
        let turn = 0;
        let quietFrom: number | undefined;
        timer = setInterval(() => {
          if (ws.readyState !== ws.OPEN) return;
          if (stopped) {
            clearInterval(timer);
            ws.close(1000);
            return;
          }
          turn += 1;
          const age = Date.now() - opened;
          if (age >= hostileCloseMs) {
            quietFrom ??= Date.now();
            if (Date.now() - quietFrom < 1_000) return;
            clearInterval(timer);
            floods += 1;
            if (floods % 2 === 1) {
              ws.send(`{"stream":"btcusdt@trade","data":"${'x'.repeat(1_100_000)}"}`);
            } else {
              // A text message started, then 4 MiB of zero bytes: two million empty continuation
              // frames (2 bytes each, FIN clear), where a message may have 1,024 fragments: before
              // the limit, they held hundreds of MB of heap (docs/SECURITY.md).
              const socket = (ws as unknown as { _socket: Socket })._socket;
              const start = encodeFrame(OPCODE.text, Buffer.from('{'), null);
              start[0] = OPCODE.text; // FIN cleared
              socket.write(Buffer.concat([start, Buffer.alloc(4 * 2 ** 20)]));
            }
            return;
          }
          const fresh = tape.tick();
          for (const t of fresh) ws.send(spotFrame(t));
          sentUpTo = tape.trades.length;
          if (turn % 10 === 0) {
            for (const f of hostileRound(hostileId)) ws.send(f);
            // A duplicate of an older clean trade, exactly as sent before.
            const old = tape.trades[Math.floor(rand() * tape.trades.length)];
            if (old) ws.send(spotFrame(old));
          }
          if (!resetDone && age > 5_000 && hostileId.next > 500_100) {
            // The hostile market restarts its numbering, dated after its newest trade.
            resetDone = true;
            hostileId.next = 1;
          }
        }, 100);
      });
    },
  });
  return {
    server,
    wsUrl: `ws://127.0.0.1:${server.port}/stream`,
    closes,
    stop: () => {
      stopped = true;
    },
  };
}

/** Hostile clients of dev's WebSocket API, each kind in a loop until stopped. */
function hostileApiClients(
  apiUrl: string,
  stopped: () => boolean,
): { counts: Record<string, number>; done: Promise<void> } {
  const wsUrl = `${apiUrl.replace(/^http/, 'ws')}/api/v1/stream`;
  const counts: Record<string, number> = { flood: 0, tooMany: 0, origin: 0, unread: 0 };
  const all = { subscribe: { candles: { interval: '*' }, alerts: true, index: true } };

  function connect(headers?: Record<string, string>): Promise<{ ws?: WebSocket; status?: number }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(wsUrl, headers ? { headers } : {});
      ws.on('open', () => resolve({ ws }));
      ws.on('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode });
        ws.terminate();
      });
      ws.on('error', () => resolve({}));
    });
  }
  const closed = (ws: WebSocket) =>
    new Promise<void>((resolve) => {
      if (ws.readyState === ws.CLOSED) resolve();
      else ws.on('close', () => resolve());
    });

  async function floods(): Promise<void> {
    while (!stopped()) {
      const { ws } = await connect();
      if (!ws) continue;
      ws.on('error', () => {});
      // Subscribe flood: far over the rate; too many subjects in some.
      for (let i = 0; i < 200 && ws.readyState === ws.OPEN; i++) {
        const candles = Array.from({ length: i % 2 ? 32 : 1 }, (_, k) => ({ interval: '1m', symbol: `S${i}_${k}` }));
        ws.send(JSON.stringify({ subscribe: { candles, alerts: true } }));
      }
      counts.flood = (counts.flood ?? 0) + 1;
      await Promise.race([closed(ws), sleep(3_000)]);
      ws.terminate();
    }
  }
  async function origins(): Promise<void> {
    while (!stopped()) {
      const { ws, status } = await connect({ Origin: 'https://evil.example' });
      if (status === 403) counts.origin = (counts.origin ?? 0) + 1;
      ws?.terminate();
      await sleep(200);
    }
  }
  async function unread(): Promise<void> {
    while (!stopped()) {
      const { ws } = await connect();
      if (!ws) {
        await sleep(500);
        continue;
      }
      ws.on('error', () => {});
      ws.send(JSON.stringify(all));
      // Never read again: the socket's receive side is paused.
      (ws as unknown as { _socket: Socket })._socket.pause();
      counts.unread = (counts.unread ?? 0) + 1;
      // Held until the API cuts it (unread bytes, or pings never answered) or the soak ends.
      while (!stopped() && ws.readyState !== ws.CLOSED) await sleep(500);
      ws.terminate();
    }
  }
  const done = Promise.all([floods(), origins(), unread(), unread()]).then(() => {});
  return { counts, done };
}

/**
 * One client that subscribes to every topic and never reads, beside one that subscribes to the
 * same and reads. The API must close the first as too slow (1013: its socket held more than the
 * send bound unread for `--slow-client-ms`) while the second keeps receiving. The close frame sits
 * behind what the first never read and the server cuts the socket 2 s after it (then the client
 * would see 1006, as test/integration/api.test.ts allows); the server's count of
 * slow closes says when to look.
 */
function slowClientBesideReader(apiUrl: string, slowCloses: () => Promise<number>, stopped: () => boolean) {
  const wsUrl = `${apiUrl.replace(/^http/, 'ws')}/api/v1/stream`;
  const subscribe = JSON.stringify({ subscribe: { candles: { interval: '*' }, alerts: true, index: true } });
  const figures = {
    slowCode: undefined as number | undefined,
    slowClosedAfterS: Number.NaN,
    readerBytes: 0,
    readerMessages: 0,
    readerMessagesAfterSlowClose: 0,
    readerCode: undefined as number | undefined,
  };
  let reader: WebSocket | undefined;
  const open = (ws: WebSocket) =>
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  const done = (async () => {
    reader = new WebSocket(wsUrl);
    reader.on('message', (d: Buffer) => {
      figures.readerBytes += d.length;
      figures.readerMessages++;
      if (figures.slowCode !== undefined) figures.readerMessagesAfterSlowClose++;
    });
    reader.on('close', (code) => {
      figures.readerCode = code;
    });
    await open(reader);
    reader.send(subscribe);
    let seen = await slowCloses();
    const slow = new WebSocket(wsUrl);
    await open(slow);
    slow.on('error', () => {});
    const code = new Promise<number>((resolve) => slow.on('close', (c) => resolve(c)));
    slow.send(subscribe);
    const opened = Date.now();
    const socket = (slow as unknown as { _socket: Socket })._socket;
    // Never read: the receive side stays paused until the server has closed a client as slow.
    // Then read, within the 2 s the server gives a close: the close frame behind the backlog
    // says 1013 if it was this client; if it was another (the hostile unread ones are closed
    // the same way), this one goes back to not reading.
    socket.pause();
    while (!stopped()) {
      if ((await slowCloses()) <= seen) {
        await sleep(250);
        continue;
      }
      seen = await slowCloses();
      socket.resume();
      const c = await Promise.race([code, sleep(5_000).then(() => undefined)]);
      if (c !== undefined) {
        figures.slowCode = c;
        figures.slowClosedAfterS = Math.round((Date.now() - opened) / 1000);
        return;
      }
      socket.pause();
    }
    socket.resume();
    slow.terminate();
  })();
  return { figures, done, close: () => reader?.close() };
}

describe('soak: tickmesh dev under a hostile feed and hostile API clients', () => {
  it(
    `for ${SECONDS} s keeps its memory flat and every clean market's candles exact`,
    async () => {
      const tape = new CleanTape();
      const standIn = await startStandIn(tape, 20_000);
      cleanup.push(() => standIn.server.close());

      const child = spawnDev(
        [
          '--api-port',
          '0',
          '--source',
          'binance',
          '--ws-url',
          standIn.wsUrl,
          '--symbols',
          [...CLEAN, HOSTILE].join(','),
        ],
        [`--max-old-space-size=${HEAP_LIMIT_MB}`],
      );
      cleanup.push(() => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      let exit: number | null | undefined;
      child.on('exit', (code) => {
        exit = code;
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        stderr = (stderr + d).slice(-20_000);
      });
      const lines: LogLine[] = [];
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
        try {
          const l = JSON.parse(text) as LogLine;
          if (l.msg === 'api listening' || l.msg === 'tickmesh dev started' || (l.level as number) >= 50) lines.push(l);
        } catch {
          // not a log line
        }
      });
      const waitLine = async (msg: string): Promise<LogLine> => {
        for (let i = 0; i < 1200; i++) {
          const l = lines.find((x) => x.msg === msg);
          if (l) return l;
          if (exit !== undefined) throw new Error(`tickmesh dev exited (${exit}); stderr:\n${stderr}`);
          await sleep(100);
        }
        throw new Error(`no "${msg}" log line`);
      };
      const apiUrl = (await waitLine('api listening')).url as string;
      const metricsUrl = `http://127.0.0.1:${(await waitLine('tickmesh dev started')).port as number}`;
      const pid = child.pid as number;

      const slowCount = async () =>
        [
          ...counterBy(
            await (await fetch(`${metricsUrl}/metrics`)).text(),
            'tickmesh_api_stream_slow_closes_total',
            '',
          ).values(),
        ].reduce((a, b) => a + b, 0);
      // Before the hostile clients, so that it is the first one the API finds too slow.
      let apiStopped = false;
      const slowClient = slowClientBesideReader(apiUrl, slowCount, () => apiStopped);
      const api = hostileApiClients(apiUrl, () => apiStopped);

      const samples: Sample[] = [];
      const started = Date.now();
      while (Date.now() - started < SECONDS * 1_000) {
        expect(exit, `tickmesh dev exited; stderr:\n${stderr}`).toBeUndefined();
        let metricsText: string;
        try {
          metricsText = await (await fetch(`${metricsUrl}/metrics`)).text();
        } catch (err) {
          // dev went away: say how it ended rather than how the request did.
          await sleep(2_000);
          expect(exit, `tickmesh dev exited; stderr:\n${stderr}`).toBeUndefined();
          throw err;
        }
        const heap = counterBy(metricsText, 'tickmesh_nodejs_heap_size_used_bytes', '');
        samples.push({ at: Date.now() - started, rssMb: rssMb(pid), heapMb: ([...heap.values()][0] ?? 0) / 2 ** 20 });
        await sleep(SAMPLE_MS);
      }
      standIn.stop();
      apiStopped = true;
      await api.done;
      await slowClient.done;
      const readerMessagesAtEnd = slowClient.figures.readerMessages;

      // The closed 1m candles of every clean market, for every minute the tape covered whole.
      const minute = 60_000;
      const first = tape.trades[0]?.eventTime ?? 0;
      const last = tape.trades.at(-1)?.eventTime ?? 0;
      const fromMinute = Math.ceil(first / minute) * minute;
      const toMinute = Math.floor(last / minute) * minute; // exclusive
      const mismatches: string[] = [];
      for (const symbol of CLEAN) {
        const expected = referenceCandles(
          tape.trades.filter((t) => t.symbol === symbol),
          '1m',
        )
          .filter((c) => c.openTime >= fromMinute && c.openTime < toMinute)
          .map(ohlcv);
        let got: ReturnType<typeof ohlcv>[] = [];
        // The last whole minute closes once the clock passes it by the out-of-orderness and grace.
        for (let i = 0; i < 60; i++) {
          const res = await fetch(
            `${apiUrl}/api/v1/candles?exchange=binance&symbol=${symbol}&interval=1m&from=${fromMinute}&to=${toMinute - 1}&limit=100`,
          );
          const body = (await res.json()) as { candles: Candle[] };
          got = body.candles.filter((c) => c.openTime >= fromMinute && c.openTime < toMinute).map(ohlcv);
          if (got.length >= expected.length) break;
          await sleep(1_000);
        }
        if (expected.length === 0 || JSON.stringify(got) !== JSON.stringify(expected))
          mismatches.push(`${symbol}: got ${JSON.stringify(got)}\nexpected ${JSON.stringify(expected)}`);
      }

      // The reader is still served after the feed stopped (closed candles), then leaves.
      const readerStillOpen = slowClient.figures.readerCode === undefined;
      slowClient.close();
      // Every hostile API connection is gone once its client is: nothing is held for it.
      let openStreams = -1;
      for (let i = 0; i < 60 && openStreams !== 0; i++) {
        const text = await (await fetch(`${metricsUrl}/metrics`)).text();
        openStreams = [...counterBy(text, 'tickmesh_api_stream_connections', '').values()].reduce((a, b) => a + b, 0);
        if (openStreams !== 0) await sleep(500);
      }
      const health = await fetch(`${metricsUrl}/healthz`);
      const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
      const rejects = counterBy(metrics, 'tickmesh_ingest_rejects_total', 'reason');
      const reconnects = counterBy(metrics, 'tickmesh_ingest_reconnects_total', 'reason');
      const streamRejected = counterBy(metrics, 'tickmesh_api_stream_rejected_total', 'reason');
      const slowCloses = counterBy(metrics, 'tickmesh_api_stream_slow_closes_total', '');
      const resets = counterBy(metrics, 'tickmesh_ingest_id_resets_total', '');

      const warm = samples.filter((s) => s.at < WARM_UP_MS);
      const after = samples.filter((s) => s.at >= WARM_UP_MS);
      const warmLevel = Math.max(...warm.map((s) => s.rssMb));
      const maxAfter = Math.max(...after.map((s) => s.rssMb));
      const third = Math.floor(after.length / 3);
      const middle = median(after.slice(third, 2 * third).map((s) => s.rssMb));
      const lastThird = median(after.slice(2 * third).map((s) => s.rssMb));
      const perMinute = new Map<number, number>();
      for (const s of samples) {
        const m = Math.floor(s.at / minute);
        perMinute.set(m, Math.max(perMinute.get(m) ?? 0, s.rssMb));
      }
      const figures = {
        seconds: SECONDS,
        cleanTrades: tape.trades.length,
        minutesCompared: (toMinute - fromMinute) / minute,
        rssWarmUpMb: Math.round(warmLevel),
        rssMaxAfterMb: Math.round(maxAfter),
        rssMiddleThirdMedianMb: Math.round(middle),
        rssLastThirdMedianMb: Math.round(lastThird),
        rssMaxPerMinuteMb: Object.fromEntries([...perMinute].map(([m, v]) => [m, Math.round(v)])),
        heapEvery10sMb: samples.filter((_, i) => i % 5 === 0).map((s) => Math.round(s.heapMb)),
        rssEvery10sMb: samples.filter((_, i) => i % 5 === 0).map((s) => Math.round(s.rssMb)),
        standInClosed1009: standIn.closes.length,
        connections: standIn.server.connections,
        rejects: Object.fromEntries(rejects),
        reconnects: Object.fromEntries(reconnects),
        idResets: [...resets.values()].reduce((a, b) => a + b, 0),
        streamRejected: Object.fromEntries(streamRejected),
        heapLimitMb: HEAP_LIMIT_MB,
        openStreamsAtEnd: openStreams,
        slowCloses: [...slowCloses.values()].reduce((a, b) => a + b, 0),
        apiClients: api.counts,
        slowClient: { ...slowClient.figures, readerMessagesAtEnd },
      };
      console.log(`soak figures ${JSON.stringify(figures)}`);

      expect(exit, `tickmesh dev exited; stderr:\n${stderr}`).toBeUndefined();
      expect(health.status).toBe(200);
      expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
      expect(mismatches).toEqual([]);
      // Every reason a Binance trade frame can be refused for (files, venue errors and kline pushes aside).
      const frameReasons = REJECT_REASONS.filter(
        (r) => !['malformed-line', 'unknown-message', 'venue-error', 'bad-kline'].includes(r),
      );
      for (const reason of frameReasons) {
        expect(rejects.get(reason) ?? 0, reason).toBeGreaterThan(0);
      }
      expect(reconnects.get('message-too-big') ?? 0).toBeGreaterThan(0);
      if (SECONDS >= 60) expect(reconnects.get('too-many-fragments') ?? 0).toBeGreaterThan(0);
      expect(figures.idResets).toBeGreaterThan(0);
      expect(streamRejected.get('origin') ?? 0).toBeGreaterThan(0);
      expect(streamRejected.get('rate') ?? 0).toBeGreaterThan(0);
      expect(streamRejected.get('subscriptions') ?? 0).toBeGreaterThan(0);
      expect(openStreams).toBe(0);
      // The client that never read was closed as too slow, the reader beside it kept receiving.
      expect(figures.slowCloses).toBeGreaterThan(0);
      expect(slowClient.figures.slowCode).toBe(1013);
      expect(readerStillOpen).toBe(true);
      expect(slowClient.figures.readerMessagesAfterSlowClose).toBeGreaterThan(0);
      expect(Math.max(...samples.map((x) => x.rssMb))).toBeLessThan(RSS_MAX_MB);
      expect(maxAfter - warmLevel).toBeLessThan(RSS_BOUND_MB);
      expect(lastThird - middle).toBeLessThan(TREND_BOUND_MB);
    },
    SECONDS * 1_000 + 150_000,
  );
});
