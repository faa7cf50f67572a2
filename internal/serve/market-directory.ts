import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import { ROOT } from '../bus/subject-names.js';
import type { Store, StoredMarket } from '../sink/store.js';
import { NAME_PATTERN } from './query-schemas.js';

export interface MarketEntry extends StoredMarket {
  /** When a price of this market last came over the bus (Unix epoch ms), or null if only stored. */
  readonly lastSeen: number | null;
}

export interface MarketDirectoryDeps {
  readonly store: Pick<Store, 'markets'>;
  readonly bus: Pick<Bus, 'subscribe'>;
  readonly logger: Logger;
  readonly refreshMs: number;
  /** A market only seen on the bus is forgotten when no price of it came for this long. */
  readonly idleMs: number;
  /** Markets held at most; past it, the one seen longest ago is forgotten. */
  readonly maxMarkets: number;
  /** Counts forgotten markets by why (`idle`, `full`). */
  readonly onForget?: (reason: 'idle' | 'full') => void;
  readonly clock: () => number;
}

const decoder = new TextDecoder();
const NAME = new RegExp(NAME_PATTERN);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length <= 64 && NAME.test(v);

interface Known {
  readonly market: StoredMarket;
  lastSeen: number | null;
  /** In the Store's list at the last read: kept however long it has been quiet. */
  stored: boolean;
}

/**
 * The markets the API knows: those with stored candles (re-read every `refreshMs`) and those
 * whose prices come over the bus (`tickmesh.price.>`, one message per market per processed
 * batch), so a market appears as soon as it trades, before its first candle closes.
 *
 * Anything that can publish on the bus can name markets, so what the bus adds is bounded: a
 * market with no stored candles is forgotten after `idleMs` without a price, and past
 * `maxMarkets` the one seen longest ago goes first (the map is kept in order of last sighting).
 */
export class MarketDirectory {
  private readonly markets = new Map<string, Known>();
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private storeProblem: string | undefined;

  constructor(private readonly deps: MarketDirectoryDeps) {}

  /** Subscribes to prices and reads the stored markets once (a Store that is down is logged, not fatal). */
  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.close(), { once: true });
    const sub = this.deps.bus.subscribe(`${ROOT}.price.>`, { signal: this.controller.signal, capacity: 10_000 });
    this.loop = (async () => {
      for await (const msg of sub) {
        try {
          const p = JSON.parse(decoder.decode(msg.data)) as Partial<StoredMarket>;
          if (isName(p.exchange) && isName(p.symbol) && isName(p.market)) {
            this.seen({ exchange: p.exchange, symbol: p.symbol, market: p.market }, this.deps.clock());
          }
        } catch {
          this.deps.logger.debug({ subject: msg.subject }, 'undecodable price update ignored');
        }
      }
    })();
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.deps.refreshMs);
    this.timer.unref();
  }

  /** Every known market, by exchange then symbol. */
  list(): MarketEntry[] {
    return [...this.markets.values()]
      .map(({ market, lastSeen }) => ({ ...market, lastSeen }))
      .sort((a, b) => cmp(a.exchange, b.exchange) || cmp(a.symbol, b.symbol));
  }

  /** Why the stored markets could not be read at the last attempt, or undefined. */
  get problem(): string | undefined {
    return this.storeProblem;
  }

  /** Re-reads the stored markets and forgets the idle ones. */
  async refresh(): Promise<void> {
    try {
      const stored = await this.deps.store.markets();
      for (const k of this.markets.values()) k.stored = false;
      for (const m of stored) {
        const cur = this.markets.get(key(m));
        if (cur) cur.stored = true;
        else this.insert(key(m), { market: m, lastSeen: null, stored: true });
      }
      this.storeProblem = undefined;
    } catch (err) {
      if (this.storeProblem === undefined) this.deps.logger.warn({ err }, 'stored markets not readable');
      this.storeProblem = `store: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.forgetIdle(this.deps.clock());
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.controller.abort();
    await this.loop?.catch(() => {});
  }

  /** A price of `market` came over the bus at `now`: it moves to the end of the map. */
  private seen(market: StoredMarket, now: number): void {
    const k = key(market);
    const cur = this.markets.get(k);
    this.markets.delete(k);
    this.insert(k, { market: cur?.market ?? market, lastSeen: now, stored: cur?.stored ?? false });
  }

  private insert(k: string, known: Known): void {
    if (this.markets.size >= this.deps.maxMarkets) this.forgetIdle(this.deps.clock());
    while (this.markets.size >= this.deps.maxMarkets) {
      const oldest = this.markets.keys().next().value as string;
      this.markets.delete(oldest);
      this.deps.onForget?.('full');
    }
    this.markets.set(k, known);
  }

  private forgetIdle(now: number): void {
    let forgotten = 0;
    for (const [k, m] of this.markets) {
      if (m.stored || (m.lastSeen !== null && now - m.lastSeen < this.deps.idleMs)) continue;
      this.markets.delete(k);
      this.deps.onForget?.('idle');
      forgotten += 1;
    }
    if (forgotten > 0) this.deps.logger.debug({ forgotten }, 'idle markets forgotten');
  }
}

function key(m: StoredMarket): string {
  return `${m.exchange}\u0000${m.symbol}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Makes a MarketDirectory: components are made by their create* factory, never with `new` outside their file. */
export function createMarketDirectory(deps: MarketDirectoryDeps): MarketDirectory {
  return new MarketDirectory(deps);
}
