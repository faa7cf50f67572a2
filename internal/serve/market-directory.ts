import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import { ROOT } from '../bus/subjects.js';
import type { Store, StoredMarket } from '../sink/store.js';

export interface MarketEntry extends StoredMarket {
  /** When a price of this market last came over the bus (Unix epoch ms), or null if only stored. */
  readonly lastSeen: number | null;
}

export interface MarketDirectoryDeps {
  readonly store: Pick<Store, 'markets'>;
  readonly bus: Pick<Bus, 'subscribe'>;
  readonly logger: Logger;
  readonly refreshMs: number;
  readonly clock: () => number;
}

const decoder = new TextDecoder();

/**
 * The markets the API knows: those with stored candles (re-read every `refreshMs`) and those
 * whose prices come over the bus (`tickmesh.price.>`, one message per market per processed
 * batch), so a market appears as soon as it trades, before its first candle closes.
 */
export class MarketDirectory {
  private readonly markets = new Map<string, { market: StoredMarket; lastSeen: number | null }>();
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
          if (typeof p.exchange === 'string' && typeof p.symbol === 'string' && typeof p.market === 'string') {
            this.add({ exchange: p.exchange, symbol: p.symbol, market: p.market }, this.deps.clock());
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

  async refresh(): Promise<void> {
    try {
      for (const m of await this.deps.store.markets()) this.add(m, null);
      this.storeProblem = undefined;
    } catch (err) {
      if (this.storeProblem === undefined) this.deps.logger.warn({ err }, 'stored markets not readable');
      this.storeProblem = `store: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.controller.abort();
    await this.loop?.catch(() => {});
  }

  private add(market: StoredMarket, seen: number | null): void {
    const key = `${market.exchange}\u0000${market.symbol}`;
    const cur = this.markets.get(key);
    if (!cur) this.markets.set(key, { market, lastSeen: seen });
    else if (seen !== null) cur.lastSeen = seen;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
