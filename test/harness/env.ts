import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

/** An endpoint the harness started. Missing means the harness is broken: fail loudly, never skip. */
export function endpoint(name: string): string {
  const value = inject('infraEnv')?.[name] ?? process.env[name];
  if (!value) throw new Error(`${name} is not set: test/infra/up.sh did not provide it`);
  return value;
}

/** A name no other test uses: for topics, subjects, buckets, schemas, namespaces, keys. */
export function freshName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`.toLowerCase();
}
