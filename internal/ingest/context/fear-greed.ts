import { type ContextReject, excerpt, type SentimentRecord, sentimentKey, sentimentRecord } from './records.js';
import type { ContextItem, ContextSource, PollContext, PollResult } from './source.js';

export interface FearGreedOptions {
  readonly name?: string;
  /** Default https://api.alternative.me */
  readonly baseUrl?: string;
  /** The index publishes one value a day; polling hourly sees a new one within the hour. */
  readonly intervalMs?: number;
  readonly staleAfterMs?: number;
  readonly requestsPerMinute?: number;
}

const DAY_MS = 86_400_000;

/**
 * The Crypto Fear & Greed index (alternative.me `/fng/`): on a first start (nothing of it seen,
 * here or in its topic) the whole history (`limit=0`, one value a day since 2018), then the
 * latest two values at each poll. Values are strings in the answer ("71"); each must be an
 * integer in 0..100 dated at a day boundary, or it is rejected.
 */
export function fearGreedSource(o: FearGreedOptions = {}): ContextSource {
  const base = (o.baseUrl ?? 'https://api.alternative.me').replace(/\/+$/, '');
  const name = o.name ?? 'fear-greed';
  let historyDone = false;
  return {
    name,
    kind: 'sentiment',
    intervalMs: o.intervalMs ?? 3_600_000,
    requestsPerMinute: o.requestsPerMinute ?? 2,
    staleAfterMs: o.staleAfterMs ?? 2 * DAY_MS,
    async poll(ctx: PollContext): Promise<PollResult> {
      const limit = ctx.firstStart && !historyDone ? 0 : 2;
      const text = await ctx.http.get(`${base}/fng/?limit=${limit}&format=json`, 'application/json');
      historyDone = true;
      const rejects: ContextReject[] = [];
      const reject = (reason: ContextReject['reason'], message: string, t: string): void => {
        rejects.push({ source: name, reason, message, excerpt: excerpt(t), receiveTime: ctx.now });
      };
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        reject('bad-json', 'fng answer is not JSON', text);
        return { items: [], rejects };
      }
      const data = (body as { data?: unknown } | null)?.data;
      if (!Array.isArray(data)) {
        reject('bad-shape', 'fng answer has no data array', text);
        return { items: [], rejects };
      }
      const items: ContextItem[] = [];
      for (const d of data) {
        const e = (d ?? {}) as Record<string, unknown>;
        const value = Number(e.value);
        const seconds = Number(e.timestamp);
        const cls = e.value_classification;
        if (e.value === undefined || e.timestamp === undefined || typeof cls !== 'string') {
          reject('missing-field', 'fng entry lacks value, timestamp or classification', JSON.stringify(d) ?? '');
        } else if (!(Number.isInteger(value) && value >= 0 && value <= 100)) {
          reject('bad-value', 'fng value is not an integer in 0..100', JSON.stringify(d));
        } else if (!(Number.isSafeInteger(seconds) && seconds > 0 && (seconds * 1000) % DAY_MS === 0)) {
          reject('bad-time', 'fng timestamp is not a day boundary in seconds', JSON.stringify(d));
        } else {
          const rec: SentimentRecord = {
            source: name,
            index: 'crypto-fear-greed',
            value,
            classification: cls,
            time: seconds * 1000,
            receiveTime: ctx.now,
          };
          items.push({ dedupeKey: sentimentKey(rec), record: sentimentRecord(rec) });
        }
      }
      // Oldest first, so that the topic holds the days in order.
      items.reverse();
      return { items, rejects };
    },
  };
}
