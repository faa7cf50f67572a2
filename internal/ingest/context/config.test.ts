import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContextStandIn } from '../../../test/support/context-stand-in.js';
import { ConfigError } from '../../runtime/errors.js';
import { contextSourceSchema, createContextSources } from './config.js';
import type { SourceHttp } from './source.js';

describe('context source config', () => {
  let standIn: ContextStandIn;
  beforeEach(async () => {
    standIn = await new ContextStandIn().start();
  });
  afterEach(() => standIn.close());

  it('takes the CoinGecko key from the file a Secret mounts, never from the config itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-'));
    writeFileSync(join(dir, 'key'), 'CG-secret\n');
    const raw = contextSourceSchema.parse({
      kind: 'reference',
      source: 'coingecko',
      baseUrl: `${standIn.url}/api/v3`,
      apiKeyHeader: 'x-cg-pro-api-key',
    });
    const [source] = createContextSources([raw], { COINGECKO_API_KEY_FILE: join(dir, 'key') });
    standIn.script('/api/v3/coins/markets', { body: '[]' });
    const http: SourceHttp = {
      get: async (url, accept, headers) => {
        const res = await fetch(url, { headers: { accept, ...headers } });
        return res.text();
      },
    };
    await source?.poll({ http, now: 0, firstStart: true, signal: AbortSignal.timeout(5_000) });
    expect(standIn.requests[0]?.headers['x-cg-pro-api-key']).toBe('CG-secret');
    expect(() =>
      createContextSources([{ kind: 'reference', source: 'coingecko', apiKeyFile: join(dir, 'missing') }], {}),
    ).toThrow(ConfigError);
  });

  it('refuses a kind that is not the source’s and an RSS feed without a name or URL', () => {
    expect(contextSourceSchema.safeParse({ kind: 'news', source: 'coingecko' }).success).toBe(false);
    expect(contextSourceSchema.safeParse({ kind: 'news', source: 'rss', url: 'https://x.invalid/rss' }).success).toBe(
      false,
    );
    expect(contextSourceSchema.safeParse({ kind: 'news', source: 'rss', name: 'x' }).success).toBe(false);
    expect(
      contextSourceSchema.safeParse({ kind: 'sentiment', source: 'fear-greed', intervalSeconds: 3600 }).success,
    ).toBe(true);
  });
});
