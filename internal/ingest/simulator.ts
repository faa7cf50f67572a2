import { setTimeout as sleep } from 'node:timers/promises';
import type { Trade } from '../market/trade.js';

/**
 * The built-in market simulator: synthetic trades that look like a real tape, for demos and load
 * tests. Every trade it makes has `exchange: 'sim'` and `simulated: true`.
 *
 * Per market:
 * - arrivals are a Hawkes process (each trade raises the intensity, which decays exponentially),
 *   so trades come in bursts, as on an exchange, not as a Poisson stream;
 * - per-trade log returns follow GARCH(1,1), so calm and volatile spells cluster;
 * - sizes are Pareto distributed (tail index 1.5: finite mean, infinite variance), in whole lots;
 * - prices move in whole ticks and are printed with the tick's decimals, exactly.
 * The same seed gives the same tape.
 */
export interface SimMarket {
  /** Canonical id, used as the sim venue's symbol too: `BTC-USD`. */
  readonly market: string;
  readonly startPrice: string;
  readonly tickSize: string;
  readonly lotSize: string;
}

export interface SimulatorOptions {
  readonly markets: readonly SimMarket[];
  /** Mean trades per second per market. Default 20. */
  readonly ratePerSecond?: number;
  readonly seed?: number;
  /** Event time of the start, epoch ms. Default now. */
  readonly startTime?: number;
  /** Mean per-trade volatility of log returns. Default 2e-4 (2 bp). */
  readonly volatility?: number;
}

const DEFAULT_MARKETS: Readonly<Record<string, Omit<SimMarket, 'market'>>> = {
  'BTC-USD': { startPrice: '65000.00', tickSize: '0.01', lotSize: '0.00001' },
  'BTC-USDT': { startPrice: '65000.00', tickSize: '0.01', lotSize: '0.00001' },
  'ETH-USD': { startPrice: '3500.00', tickSize: '0.01', lotSize: '0.0001' },
  'ETH-USDT': { startPrice: '3500.00', tickSize: '0.01', lotSize: '0.0001' },
  'SOL-USD': { startPrice: '150.000', tickSize: '0.001', lotSize: '0.001' },
};

/** A SimMarket for `market` with plausible defaults when the table does not know it. */
export function simMarket(market: string): SimMarket {
  return { market, ...(DEFAULT_MARKETS[market] ?? { startPrice: '100.00', tickSize: '0.01', lotSize: '0.001' }) };
}

/** mulberry32: small, fast, good enough for synthetic data, and seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function decimals(s: string): number {
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}

/** An exact decimal string as an integer count of 10^-d units. */
function toUnits(s: string, d: number): number {
  const [int = '0', frac = ''] = s.split('.');
  return Number(int + frac.padEnd(d, '0'));
}

function formatUnits(units: number, d: number): string {
  if (d === 0) return String(units);
  const s = String(units).padStart(d + 1, '0');
  return `${s.slice(0, s.length - d)}.${s.slice(s.length - d)}`;
}

interface MarketState {
  readonly spec: SimMarket;
  readonly tickUnits: number;
  readonly priceDecimals: number;
  readonly lotUnits: number;
  readonly sizeDecimals: number;
  ticks: number;
  /** Hawkes excitation at `time` (per ms). */
  excitation: number;
  time: number;
  variance: number;
  lastShock: number;
  side: 'buy' | 'sell';
  nextId: number;
  /** Event time of this market's next trade (ms, fractional). */
  next: number;
}

/** Pure generator: `next()` returns the next trade across all markets in event-time order. */
export class MarketSimulator {
  private readonly random: () => number;
  private readonly markets: MarketState[];
  private readonly mu: number;
  private readonly alpha: number;
  private readonly beta: number;
  private readonly omega: number;
  private readonly garchA = 0.1;
  private readonly garchB = 0.85;

  constructor(options: SimulatorOptions) {
    if (options.markets.length === 0) throw new RangeError('the simulator needs at least one market');
    this.random = prng(options.seed ?? 1);
    const rate = (options.ratePerSecond ?? 20) / 1000; // per ms
    // Branching ratio 0.7: each trade triggers 0.7 more on average; mean rate = mu / (1 - 0.7).
    this.beta = 1 / 400;
    this.alpha = 0.7 * this.beta;
    this.mu = rate * (1 - 0.7);
    const vol = options.volatility ?? 2e-4;
    this.omega = vol * vol * (1 - this.garchA - this.garchB);
    const start = options.startTime ?? Date.now();
    this.markets = options.markets.map((spec, i) => {
      const priceDecimals = decimals(spec.tickSize);
      const tickUnits = toUnits(spec.tickSize, priceDecimals);
      const sizeDecimals = decimals(spec.lotSize);
      const s: MarketState = {
        spec,
        tickUnits,
        priceDecimals,
        lotUnits: toUnits(spec.lotSize, sizeDecimals),
        sizeDecimals,
        ticks: Math.max(1, Math.round(toUnits(spec.startPrice, priceDecimals) / tickUnits)),
        excitation: 0,
        time: start,
        variance: vol * vol,
        lastShock: 0,
        side: i % 2 === 0 ? 'buy' : 'sell',
        nextId: 1,
        next: start,
      };
      s.next = this.arrival(s);
      return s;
    });
  }

  /** Ogata thinning: between trades the intensity only decays, so its current value bounds it. */
  private arrival(s: MarketState): number {
    let t = s.time;
    let excitation = s.excitation;
    for (;;) {
      const bound = this.mu + excitation;
      const wait = -Math.log(1 - this.random()) / bound;
      t += wait;
      excitation *= Math.exp(-this.beta * wait);
      if (this.random() * bound <= this.mu + excitation) {
        s.time = t;
        s.excitation = excitation + this.alpha;
        return t;
      }
    }
  }

  private normal(): number {
    const u = 1 - this.random();
    const v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  next(): Trade {
    let s = this.markets[0] as MarketState;
    for (const m of this.markets) if (m.next < s.next) s = m;
    const eventTime = Math.floor(s.next);
    s.variance = this.omega + this.garchA * s.lastShock * s.lastShock + this.garchB * s.variance;
    const shock = Math.sqrt(s.variance) * this.normal();
    s.lastShock = shock;
    const moved = Math.max(1, Math.round(s.ticks * Math.exp(shock)));
    if (moved > s.ticks) s.side = 'buy';
    else if (moved < s.ticks) s.side = 'sell';
    else if (this.random() < 0.3) s.side = s.side === 'buy' ? 'sell' : 'buy';
    s.ticks = moved;
    const lots = Math.min(1_000_000, Math.ceil((1 - this.random()) ** (-1 / 1.5)));
    const latency = Math.round(Math.exp(2 + 0.5 * this.normal()));
    const trade: Trade = {
      exchange: 'sim',
      symbol: s.spec.market,
      market: s.spec.market,
      tradeId: String(s.nextId++),
      price: formatUnits(s.ticks * s.tickUnits, s.priceDecimals),
      size: formatUnits(lots * s.lotUnits, s.sizeDecimals),
      side: s.side,
      eventTime,
      receiveTime: eventTime + latency,
      simulated: true,
    };
    s.next = this.arrival(s);
    return trade;
  }
}

/**
 * Simulated trades as a stream. `realtime`: each trade is released at its event time (a live
 * demo); otherwise as fast as the consumer takes them (a load test), yielding to the event loop
 * every 1,000 trades.
 */
export async function* simulateTrades(
  options: SimulatorOptions & { readonly realtime: boolean },
  signal: AbortSignal,
): AsyncGenerator<Trade> {
  const sim = new MarketSimulator(options);
  const wallStart = Date.now();
  const eventStart = options.startTime ?? wallStart;
  let n = 0;
  while (!signal.aborted) {
    const t = sim.next();
    if (options.realtime) {
      const wait = t.eventTime - eventStart - (Date.now() - wallStart);
      if (wait > 0) {
        try {
          await sleep(wait, undefined, { signal });
        } catch {
          return;
        }
      }
      yield { ...t, receiveTime: Math.max(t.receiveTime, Date.now()) };
    } else {
      yield t;
      if (++n % 1000 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
