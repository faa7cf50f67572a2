import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Where the project's shared exchange data is (shared/data: real trades with the exchange's own
 * klines, raw WebSocket captures; never copied into the repository). In order:
 * `TICKMESH_SHARED_DATA`; `shared/data` beside the checkout or beside any folder above it (a
 * checkout at /work/main finds /work/shared/data); /work/shared/data, where the development and
 * CI machines of this project keep it (a fresh clone in /tmp finds it there). Missing data is an
 * error naming every place looked at, never a skipped test.
 */
export function sharedDataDir(): string {
  const tried: string[] = [];
  const env = process.env.TICKMESH_SHARED_DATA;
  if (env) {
    if (existsSync(env)) return resolve(env);
    tried.push(`TICKMESH_SHARED_DATA=${env}`);
  }
  for (let dir = dirname(ROOT); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'data');
    if (existsSync(candidate)) return candidate;
    tried.push(candidate);
    if (dirname(dir) === dir) break;
  }
  if (existsSync('/work/shared/data')) return '/work/shared/data';
  tried.push('/work/shared/data');
  throw new Error(`the shared exchange data is not there: looked at ${tried.join(', ')}`);
}

/** A path inside the shared data, e.g. `sharedData('binance-um-btcusdt-2020-02-22', 'trades.csv')`. */
export function sharedData(...parts: string[]): string {
  return join(sharedDataDir(), ...parts);
}
