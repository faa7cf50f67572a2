import { RateLimitedError, TickmeshError, UnavailableError } from '../runtime/errors.js';

export interface GetJsonOptions {
  readonly fetch?: typeof fetch;
  readonly signal: AbortSignal;
  readonly headers?: Record<string, string>;
  /** Per request; the caller's signal still aborts earlier. Default 10 s. */
  readonly timeoutMs?: number;
  /** Largest body read (bytes); a larger one is a TM_TOO_LARGE error, not retried. Default: no limit. */
  readonly maxBytes?: number;
  /** JSON.parse's reviver, e.g. to keep numbers as their text. */
  readonly reviver?: (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;
}

/**
 * GET a JSON document from a venue's REST API. Network failures, timeouts and 5xx are
 * UnavailableError (retriable); 429 and 418 (Binance's ban after ignored 429s) are its subclass
 * RateLimitedError carrying the Retry-After wait; other non-2xx answers and bodies that are not
 * JSON are not retriable.
 */
export async function getJson(url: string, options: GetJsonOptions): Promise<{ body: unknown; headers: Headers }> {
  const { text, headers } = await getText(url, 'application/json', options);
  try {
    return { body: JSON.parse(text, options.reviver), headers };
  } catch (err) {
    throw new TickmeshError('TM_REST', 'venue REST answer is not JSON', { cause: err });
  }
}

/** GET a document as text, with getJson's errors (status and network); `accept` is the Accept header. */
export async function getText(
  url: string,
  accept: string,
  options: Omit<GetJsonOptions, 'reviver'>,
): Promise<{ text: string; headers: Headers }> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? 10_000)]);
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, { signal, headers: { accept, ...options.headers } });
  } catch (err) {
    if (options.signal.aborted) throw options.signal.reason;
    throw new UnavailableError('venue REST request failed', { cause: err });
  }
  const text = options.maxBytes === undefined ? await res.text() : await boundedText(res, options.maxBytes);
  if (res.status === 429 || res.status === 418) {
    const wait = retryAfterMs(res.headers.get('retry-after'), Date.now());
    throw new RateLimitedError(`venue REST answered ${res.status}`, wait, { cause: text.slice(0, 200) });
  }
  if (res.status >= 500) {
    throw new UnavailableError(`venue REST answered ${res.status}`, { cause: text.slice(0, 200) });
  }
  if (!res.ok) throw new TickmeshError('TM_REST', `venue REST answered ${res.status}`, { cause: text.slice(0, 200) });
  return { text, headers: res.headers };
}

/** The body as UTF-8 text, read no further than `max` bytes (the stream is cancelled past it). */
async function boundedText(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  const tooLarge = () => new TickmeshError('TM_TOO_LARGE', `answer larger than ${max} bytes`);
  if (declared > max) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A Retry-After header (delay seconds or an HTTP date) as ms from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/**
 * The trades with ids `fromId..toId` from a REST API that pages backwards by id (`after=X`
 * answers the trades with ids below X, newest first: Coinbase Exchange, OKX history-trades).
 * `page(after)` fetches one page and reads each row as [id, trade], the trade undefined for a
 * row that is not one. Stops at `fromId`, at an empty or non-advancing page, or after `maxPages`
 * (the trades older than what was fetched are then left to the caller as unrecovered).
 */
export async function pageBackwards<T>(
  fromId: bigint,
  toId: bigint,
  maxPages: number,
  page: (after: bigint) => Promise<ReadonlyArray<readonly [bigint, T | undefined]>>,
): Promise<T[]> {
  const out: T[] = [];
  let after = toId + 1n;
  for (let n = 0; n < maxPages && after > fromId; n++) {
    let lowest = after;
    for (const [id, item] of await page(after)) {
      if (id < lowest) lowest = id;
      if (item !== undefined && id >= fromId && id <= toId) out.push(item);
    }
    if (lowest >= after) break;
    after = lowest;
  }
  return out;
}
