import { TickmeshError, UnavailableError } from '../../runtime/errors.js';
import { isObject } from '../venue.js';

/** OKX's codes for "try again later": service unavailable, timeout, rate limit, busy. */
const OKX_BUSY = new Set(['50001', '50004', '50011', '50013', '50026']);

/** The rows of an OKX REST answer `{"code":"0","msg":"","data":[...]}`; another code becomes an error. */
export function readAnswer(body: unknown): unknown[] {
  if (!isObject(body)) throw new TickmeshError('TM_REST', 'okx answer is not an object');
  if (body.code !== '0') {
    const message = `okx answered code ${String(body.code)}: ${String(body.msg ?? '')}`;
    throw OKX_BUSY.has(String(body.code)) ? new UnavailableError(message) : new TickmeshError('TM_REST', message);
  }
  if (!Array.isArray(body.data)) throw new TickmeshError('TM_REST', 'okx answer has no data array');
  return body.data;
}
