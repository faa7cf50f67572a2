import { plainDecimal } from './validate.js';

/** A JSON number kept as the text the venue sent. */
export class ExactNumber {
  constructor(readonly source: string) {}
}

/**
 * JSON.parse's reviver for venues that send prices and sizes as JSON numbers (Kraken): every
 * number becomes an ExactNumber holding its source text, so no value passes through a float.
 */
export function exactNumbers(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' && context?.source !== undefined ? new ExactNumber(context.source) : value;
}

/** A JSON number as a plain decimal string, from the text the venue wrote (never through a float). */
export function decimalNumber(v: unknown): string | undefined {
  return v instanceof ExactNumber ? plainDecimal(v.source) : undefined;
}

/** A JSON number of 1 to 15 digits, as the venue wrote it. */
export function idNumber(v: unknown): string | undefined {
  return v instanceof ExactNumber && /^\d{1,15}$/.test(v.source) ? v.source : undefined;
}
