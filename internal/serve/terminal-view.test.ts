import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import { candleSubject } from '../bus/subject-names.js';
import type { Candle } from '../market/candle.js';
import { LogTail } from '../observe/log-tail.js';
import { createLogger } from '../observe/logger.js';
import { CapturedOutput } from '../observe/testing/captured-output.js';
import { candlePayload } from '../worker/outputs.js';
import { startTerminalView } from './terminal-view.js';

const MINUTE = Date.UTC(2026, 0, 5, 10, 0);

function candle(over: Partial<Candle>): Candle {
  return {
    exchange: 'sim',
    symbol: 'BTC-USDT',
    market: 'BTC-USDT',
    interval: '1m',
    openTime: MINUTE,
    closeTime: MINUTE + 59_999,
    open: '100',
    high: '101',
    low: '99',
    close: '100.5',
    volume: '2',
    quoteVolume: '201',
    trades: 3,
    takerBuyVolume: '1',
    takerBuyQuoteVolume: '100',
    vwap: '100.5',
    firstTradeId: '1',
    lastTradeId: '3',
    revision: 0,
    closed: false,
    ...over,
  };
}

describe('terminal view', () => {
  const stops: AbortController[] = [];
  afterEach(() => {
    for (const s of stops.splice(0)) s.abort();
  });

  function start(screen: CapturedOutput, bus: MemoryBus, logTail?: LogTail) {
    const stop = new AbortController();
    stops.push(stop);
    const done = startTerminalView(
      { bus, out: screen, interval: '1m', source: 'SIMULATED', refreshMs: 20, openLineMs: 50, logTail },
      stop.signal,
    );
    return { stop, done };
  }

  const publish = (bus: MemoryBus, c: Candle) =>
    bus.publish(candleSubject(c.closed ? 'closed' : 'partial', c), candlePayload(c));

  it('not on a terminal: prints each open candle while it changes, not only the closed ones', async () => {
    const bus = createMemoryBus();
    const screen = new CapturedOutput(false);
    start(screen, bus);
    expect(screen.text).toMatch(
      /^tickmesh dev · 1m candles · source: SIMULATED · each market's open candle every 0.05 s/,
    );
    publish(bus, candle({ trades: 3, close: '100.5' }));
    await expect.poll(() => screen.text.includes('open   O'), { timeout: 2_000, interval: 10 }).toBe(true);
    expect(screen.text).toContain('2026-01-05T10:00:00.000Z 1m sim:BTC-USDT');
    expect(screen.text).toContain('open   O 100 H 101 L 99 C 100.5 V 2 n 3 [SIMULATED]');

    // Unchanged: no second line. Changed: one more.
    await new Promise((r) => setTimeout(r, 150));
    expect(screen.text.match(/open {3}O/g)).toHaveLength(1);
    publish(bus, candle({ trades: 4, close: '100.7' }));
    await expect.poll(() => (screen.text.match(/open {3}O/g) ?? []).length, { timeout: 2_000, interval: 10 }).toBe(2);
    expect(screen.text).toContain('C 100.7 V 2 n 4');

    // The window closes: a closed line at once, and the stale open candle is not printed again.
    publish(bus, candle({ trades: 5, close: '100.8', closed: true }));
    publish(bus, candle({ trades: 6, close: '100.9' }));
    await expect.poll(() => screen.text.includes('closed O'), { timeout: 2_000, interval: 10 }).toBe(true);
    expect(screen.text).toContain('closed O 100 H 101 L 99 C 100.8 V 2 n 5 [SIMULATED]');
    await new Promise((r) => setTimeout(r, 150));
    expect(screen.text).not.toContain('n 6');
    expect(screen.text).not.toContain('\x1b[');
  });

  it('on a terminal: redraws the open candle in place, with the recent log lines under the table', async () => {
    const bus = createMemoryBus();
    const screen = new CapturedOutput(true);
    const stderr = new CapturedOutput(true);
    const tail = new LogTail(3, stderr);
    const logger = createLogger({ level: 'info', destination: tail, pretty: true });
    logger.warn({ markets: ['BTC-USDT'] }, 'running the market simulator: trades are synthetic');
    expect(stderr.text).toContain('WARN  running the market simulator: trades are synthetic');

    const { stop, done } = start(screen, bus, tail);
    await expect
      .poll(() => screen.text.includes('(waiting for the first trades)'), { timeout: 2_000, interval: 10 })
      .toBe(true);
    publish(bus, candle({ trades: 3, close: '100.5' }));
    await expect.poll(() => screen.text.includes('100.5'), { timeout: 2_000, interval: 10 }).toBe(true);
    const frame = screen.text.slice(screen.text.lastIndexOf('\x1b[H\x1b[J'));
    expect(frame).toMatch(/sim:BTC-USDT +100 +101 +99 +100.5 +2 +3/);
    expect(frame).toContain('recent log:');
    expect(frame).toContain('running the market simulator: trades are synthetic  markets=["BTC-USDT"]');

    // While the view holds the screen a log line goes under the table, not to stderr; after, to stderr.
    logger.error({ venue: 'sim' }, 'feed closed');
    await expect
      .poll(() => screen.text.slice(screen.text.lastIndexOf('\x1b[H')).includes('feed closed'), {
        timeout: 2_000,
        interval: 10,
      })
      .toBe(true);
    expect(stderr.text).not.toContain('feed closed');
    stop.abort();
    await done;
    logger.warn('draining: committing a final checkpoint per partition');
    expect(stderr.text).toContain('draining: committing a final checkpoint per partition');
  });
});
