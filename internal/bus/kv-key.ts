import { InputError } from '../runtime/errors.js';
import { isValidKvKey, isValidKvPattern } from './subject-syntax.js';

/** The key rules every KV bucket adapter enforces, as the InputError a caller gets. */
export function checkKvKey(key: string): void {
  if (!isValidKvKey(key)) throw new InputError('bad_key', `invalid key '${key}'`);
}

export function checkKvPattern(pattern: string): void {
  if (!isValidKvPattern(pattern)) throw new InputError('bad_key', `invalid key pattern '${pattern}'`);
}
