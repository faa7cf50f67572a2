import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrendPrediction } from '../../internal/actor/output.js';
import { type LocalBinance, range, startLocalBinance } from '../../internal/ingest/testing/local-binance.js';
import { spawnDev } from '../harness/dev-process.js';
import { eventually } from '../harness/eventually.js';
import { loadRealTrades } from '../support/real-trades.js';

/**
 * `npm start` is `tickmesh dev`: the whole pipeline in one process on the in-process adapters.
 * These tests run the real command as a child process, as a user would, and read its API.
 */

interface LogLine {
  msg?: string;
  level?: number;
  url?: string;
  [field: string]: unknown;
}

interface Dev {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** Resolves with the first log line that `pred` accepts (within the test's time). */
  line(pred: (l: LogLine) => boolean): Promise<LogLine>;
  exited: Promise<number | null>;
}

const running: Dev[] = [];
const servers: LocalBinance[] = [];

afterEach(async () => {
  for (const d of running.splice(0)) if (d.child.exitCode === null) d.child.kill('SIGKILL');
  for (const s of servers.splice(0)) await s.close();
});

function startDev(args: string[]): Dev {
  const child = spawnDev(['--api-port', '0', ...args]);
  const lines: LogLine[] = [];
  const waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    let l: LogLine;
    try {
      l = JSON.parse(text) as LogLine;
    } catch {
      return; // not a log line
    }
    lines.push(l);
    for (const w of waiters.splice(0)) {
      if (w.pred(l)) w.resolve(l);
      else waiters.push(w);
    }
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const dev: Dev = {
    child,
    lines,
    exited,
    line: (pred) => {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        void exited.then((code) => reject(new Error(`tickmesh dev exited (${code}) first; stderr:\n${stderr}`)));
      });
    },
  };
  running.push(dev);
  return dev;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface MarketRow {
  exchange: string;
  symbol: string;
  candle?: { trades: number; close: string } | null;
}

describe('tickmesh dev (npm start)', () => {
  it('with the exchange unreachable: says so, runs the simulator, and serves candles within seconds; SIGTERM ends it cleanly', async () => {
    // Nothing listens on port 1: the reachability check fails at once.
    const dev = startDev(['--ws-url', 'ws://127.0.0.1:1/stream', '--rate', '50']);
    const started = Date.now();
    const { url } = await dev.line((l) => l.msg === 'api listening');
    await dev.line((l) => l.msg === 'exchange not reachable: running the market simulator');

    const info = await getJson(`${url}/api/v1/info`);
    expect(info.body).toMatchObject({ simulated: true, source: { simulated: true } });
    const withCandles = await eventually(
      'a 1m candle in the API',
      async () => {
        const { body } = await getJson(`${url}/api/v1/markets?interval=1m`);
        const rows = (body.markets as MarketRow[]).filter((m) => (m.candle?.trades ?? 0) > 0);
        return rows.length > 0 ? rows : undefined;
      },
      20_000,
      250,
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(withCandles[0]?.exchange).toBe('sim');

    dev.child.kill('SIGTERM');
    expect(await dev.exited).toBe(0);
    expect(dev.lines.some((l) => l.msg === 'draining: committing a final checkpoint per partition')).toBe(true);
  }, 60_000);

  it('shows simulated reference data, sentiment, headlines and the scored model, labelled so, through the routes', async () => {
    // 1s candles beside the defaults: the model's forecasts are scored within seconds.
    const dev = startDev([
      '--ws-url',
      'ws://127.0.0.1:1/stream',
      '--rate',
      '2',
      '--intervals',
      '1s,1m,5m,15m,1h,4h,1d',
    ]);
    const { url } = await dev.line((l) => l.msg === 'api listening');
    // Context, simulated and labelled so, through the worker's tables and the API's routes.
    const latest = await eventually(
      'reference data of the simulated markets',
      async () => {
        const { body } = await getJson(`${url}/api/v1/assets/latest`);
        const assets = body.assets as Array<{ asset: string; source: string; price: number }>;
        return assets.length >= 5 ? assets : undefined;
      },
      20_000,
      250,
    );
    expect(latest.map((a) => a.asset)).toEqual(['BNB', 'BTC', 'ETH', 'SOL', 'XRP']);
    expect(latest.every((a) => a.source === 'simulated' && a.price > 0)).toBe(true);
    const news = await eventually(
      'a simulated headline',
      async () => {
        const { body } = await getJson(`${url}/api/v1/news`);
        const rows = body.news as Array<{ title: string; assets: string[] }>;
        return rows.length > 0 ? rows : undefined;
      },
      20_000,
      250,
    );
    expect(news[0]?.title).toMatch(/^\[SIMULATED\] /);
    const btc = await getJson(`${url}/api/v1/assets?asset=BTC`);
    expect(btc.body).toMatchObject({ asset: 'BTC', next: null });
    const fng = await getJson(`${url}/api/v1/sentiment?index=fear-greed`);
    expect((fng.body.sentiment as unknown[]).length).toBe(30);
    expect(dev.lines.some((l) => l.msg?.startsWith('context: SIMULATED'))).toBe(true);
    // The model's signal on the 1s candles, scored next to its three baselines.
    const forecast = await eventually(
      'a scored forecast of the trend model',
      async () => {
        const q = 'exchange=sim&symbol=BTC-USDT&interval=1s&limit=1';
        const rows = (await getJson(`${url}/api/v1/predictions?${q}`)).body.predictions as TrendPrediction[];
        const p = rows.at(-1);
        return p !== undefined && p.scores.scored >= 3 ? p : undefined;
      },
      40_000,
      250,
    );
    expect(forecast.pUp).toBeGreaterThan(0);
    expect(forecast.pUp).toBeLessThan(1);
    for (const s of [forecast.scores.model, ...Object.values(forecast.scores.baselines)]) {
      expect(s.accuracy).toBeGreaterThanOrEqual(0);
      expect(s.logLoss).toBeGreaterThan(0);
    }
    expect(Object.keys(forecast.scores.baselines).sort()).toEqual(['coin', 'majority', 'persistence']);
    expect(forecast.scores.beatsBaselines).toBe(false);

    dev.child.kill('SIGTERM');
    expect(await dev.exited).toBe(0);
  }, 120_000);

  it('with the exchange reachable: live trades (not simulated) become candles equal to the trades sent', async () => {
    const trades = (await loadRealTrades()).slice(0, 500);
    // Every connection, the reachability check's included, gets the same 500 real trades.
    const binance = await startLocalBinance({ trades, script: () => ({ send: range(0, 500), after: 'silent' }) });
    servers.push(binance);
    const dev = startDev(['--ws-url', binance.wsUrl, '--symbols', 'BTCUSDT']);
    const { url } = await dev.line((l) => l.msg === 'api listening');

    const info = await getJson(`${url}/api/v1/info`);
    expect(info.body).toMatchObject({ simulated: false, source: { label: 'binance live', simulated: false } });
    const last = trades.at(-1);
    const candle = await eventually(
      'the candle holding the last trade sent',
      async () => {
        const { status, body } = await getJson(
          `${url}/api/v1/candles/latest?exchange=binance&symbol=BTCUSDT&interval=1m`,
        );
        const c = body.candle as { lastTradeId: string; trades: number; close: string } | undefined;
        return status === 200 && c?.lastTradeId === last?.tradeId ? c : undefined;
      },
      20_000,
      250,
    );
    expect(candle.close).toBe(last?.price);
    const minute = (t: number) => Math.floor(t / 60_000);
    expect(candle.trades).toBe(trades.filter((t) => minute(t.eventTime) === minute(last?.eventTime ?? 0)).length);
    expect(dev.lines.some((l) => l.msg === 'exchange not reachable: running the market simulator')).toBe(false);
  }, 60_000);
});
