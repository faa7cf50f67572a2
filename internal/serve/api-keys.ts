import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../runtime/errors.js';

/** What a key may do. Every route of the API reads; no route writes yet. */
export const API_KEY_ROLES = ['read'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** One accepted key, known only by the SHA-256 of its text. */
export interface ApiKey {
  readonly name: string;
  readonly role: ApiKeyRole;
  readonly sha256: Buffer;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * The keys file: one key a line, `<sha256 hex of the key> [name] [role]`; blank lines and lines
 * starting with `#` are skipped. The name defaults to `key-<line>`, the role to `read`.
 * ConfigError naming the line for anything else, and for a file with no key.
 */
export function parseApiKeys(text: string, source = 'the API keys file'): readonly ApiKey[] {
  const keys: ApiKey[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [hash = '', name = `key-${i + 1}`, role = 'read', ...rest] = line.split(/\s+/);
    if (!HEX_SHA256.test(hash)) {
      throw new ConfigError(`${source} line ${i + 1}: expected the key's SHA-256 as 64 hex digits, not the key`);
    }
    if (!(API_KEY_ROLES as readonly string[]).includes(role) || rest.length > 0) {
      throw new ConfigError(`${source} line ${i + 1}: expected '<sha256> [name] [${API_KEY_ROLES.join('|')}]'`);
    }
    keys.push(Object.freeze({ name, role: role as ApiKeyRole, sha256: Buffer.from(hash, 'hex') }));
  });
  if (keys.length === 0) throw new ConfigError(`${source} holds no key`);
  return Object.freeze(keys);
}

/**
 * The key whose hash matches `presented`, or undefined. Every stored hash is compared, in
 * constant time, whatever matched before: the time taken tells nothing about which key is close.
 */
export function findApiKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const digest = sha256(presented);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.sha256, digest) && found === undefined) found = key;
  }
  return found;
}

/** A new random key (32 bytes, base64url, prefixed `tm_`) and the keys-file line holding its hash. */
export function newApiKey(name: string, role: ApiKeyRole = 'read'): { key: string; line: string } {
  const key = `tm_${randomBytes(32).toString('base64url')}`;
  return { key, line: `${sha256(key).toString('hex')} ${name} ${role}` };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
