import { decimalToBig, formatScaledBig } from '../../actor/decimal.js';
import { isOkxDerivative } from '../../market/markets.js';
import { ConfigError, RateLimitedError } from '../../runtime/errors.js';
import { retry } from '../../runtime/retry.js';
import { VENUE_REQUEST_RETRY } from '../../runtime/retry-policies.js';
import { getJson, joinUrl } from '../rest.js';
import { isObject } from '../venue.js';
import { readAnswer } from './okx-rest.js';

/**
 * OKX sizes its derivatives' trades in contracts (`sz`), spot in the base asset. tickmesh sizes
 * every trade in the base asset, as every other venue does and as OKX's own candles count a
 * contract's volume (`volCcy`), so a linear contract's `sz` is multiplied by its contract value
 * (`ctVal`, base units per contract) as it is read. An inverse contract (`BTC-USD-SWAP`) is worth
 * a fixed amount of the quote currency: its size in the base asset depends on the price and is
 * not exact, so it is refused.
 */

/** Scale at which contract values and sizes are multiplied: OKX prints at most 8 decimals of either. */
const SCALE = 15;

/** `contracts` × `contractValue`, both plain decimals, exactly; undefined if either is not one. */
export function contractsToBase(contracts: string, contractValue: string): string | undefined {
  const a = decimalToBig(contracts, SCALE);
  const b = decimalToBig(contractValue, SCALE);
  if (a === undefined || b === undefined) return undefined;
  return formatScaledBig(a * b, 2 * SCALE);
}

export interface OkxContractOptions {
  /** The subscribed instruments; only derivatives are looked up. */
  readonly symbols: readonly string[];
  /** Contract values given by the operator (venue config `contractValues`), used as they are. */
  readonly given: Readonly<Record<string, string>>;
  /** REST base URL; empty: nothing is looked up, every derivative must be given. */
  readonly restUrl: string;
  readonly fetch?: typeof fetch;
  readonly signal: AbortSignal;
}

/** A plain decimal above zero with at most SCALE decimals. */
function isPositive(s: string): boolean {
  if (!/^(?:0|[1-9]\d*)(?:\.\d+)?$/.test(s)) return false;
  const v = decimalToBig(s, SCALE);
  return v !== undefined && v > 0n;
}

/**
 * Refuses what can be refused before any request: a coin-margined contract (quoted in USD:
 * `BTC-USD-SWAP`), a given value that is not a positive decimal, a derivative with neither a
 * value nor a REST URL to read one. Config parsing calls it too, so such a config fails at once.
 */
export function checkOkxContracts(
  symbols: readonly string[],
  given: Readonly<Record<string, string>>,
  restUrl: string,
): void {
  for (const symbol of symbols) {
    if (!isOkxDerivative(symbol)) continue;
    if (symbol.split('-')[1] === 'USD') throw inverse(symbol, 'USD');
    const value = given[symbol];
    if (value !== undefined && !isPositive(value)) {
      throw new ConfigError(`okx ${symbol}: contract value ${JSON.stringify(value)} is not a positive decimal`);
    }
    if (value === undefined && restUrl === '') {
      throw new ConfigError(
        `okx ${symbol}: trades count contracts and no REST URL is set to read the contract value; give it in the venue's contractValues`,
      );
    }
  }
}

/**
 * The contract value of every derivative in `symbols`: the given ones, the others from OKX's
 * `GET /api/v5/public/instruments?instType=SWAP|FUTURES&instId=` (retried while OKX is busy or
 * away). What checkOkxContracts refuses, an inverse contract or an unlisted instrument is a
 * ConfigError naming it: ingest does not start rather than count contracts as coins.
 */
export async function okxContractValues(options: OkxContractOptions): Promise<Map<string, string>> {
  checkOkxContracts(options.symbols, options.given, options.restUrl);
  const values = new Map<string, string>();
  for (const symbol of options.symbols) {
    if (!isOkxDerivative(symbol)) continue;
    values.set(symbol, options.given[symbol] ?? (await lookUp(symbol, options)));
  }
  return values;
}

async function lookUp(symbol: string, options: OkxContractOptions): Promise<string> {
  const instType = symbol.endsWith('-SWAP') ? 'SWAP' : 'FUTURES';
  const url = joinUrl(
    options.restUrl,
    `/api/v5/public/instruments?instType=${instType}&instId=${encodeURIComponent(symbol)}`,
  );
  const data = await retry(
    async () => {
      const { body } = await getJson(url, {
        signal: options.signal,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      // 51001: "Instrument ID does not exist".
      if (isObject(body) && body.code === '51001') return [];
      return readAnswer(body);
    },
    {
      ...VENUE_REQUEST_RETRY,
      signal: options.signal,
      minDelayOf: (err) => (err instanceof RateLimitedError ? err.retryAfterMs : undefined),
    },
  );
  const row = data.find((r) => isObject(r) && r.instId === symbol);
  if (!isObject(row)) throw new ConfigError(`okx ${symbol}: OKX does not list this instrument`);
  const base = symbol.split('-')[0];
  if (row.ctType !== 'linear' || row.ctValCcy !== base) throw inverse(symbol, String(row.ctValCcy));
  const ctVal = row.ctVal;
  if (typeof ctVal !== 'string' || !isPositive(ctVal)) {
    throw new ConfigError(`okx ${symbol}: the listed contract value is not a positive decimal`);
  }
  return ctVal;
}

function inverse(symbol: string, currency: string): ConfigError {
  return new ConfigError(
    `okx ${symbol}: its contract is worth an amount of ${currency}, so its size in ${symbol.split('-')[0]} is not exact; tickmesh ingests OKX spot and linear contracts`,
  );
}
