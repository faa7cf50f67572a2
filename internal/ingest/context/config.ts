import { z } from 'zod';
import { readSecretFile } from '../../config/secret-file.js';
import { coingeckoSource } from './coingecko.js';
import { fearGreedSource } from './fear-greed.js';
import { rssSource } from './rss.js';
import type { ContextSource } from './source.js';

const timing = {
  name: z.string().min(1).max(64).optional(),
  intervalSeconds: z.number().positive().optional(),
  staleAfterSeconds: z.number().positive().optional(),
  requestsPerMinute: z.number().positive().max(6_000).optional(),
};

/**
 * One context source in `tickmesh ingest --config FILE` (`"sources": [...]`, docs/SOURCES.md),
 * beside the exchange venues: `kind` says which topic it feeds and must match the source.
 */
export const contextSourceSchema = z.discriminatedUnion('source', [
  z.object({
    kind: z.literal('reference'),
    source: z.literal('coingecko'),
    ...timing,
    baseUrl: z.string().url().optional(),
    /** A file holding the API key (a mounted Secret); COINGECKO_API_KEY_FILE when absent. */
    apiKeyFile: z.string().min(1).optional(),
    apiKeyHeader: z.enum(['x-cg-demo-api-key', 'x-cg-pro-api-key']).optional(),
    vsCurrency: z.string().min(1).max(10).optional(),
    pages: z.number().int().min(1).max(20).optional(),
    perPage: z.number().int().min(1).max(250).optional(),
    priceAssets: z.array(z.string().min(1)).min(1).optional(),
    marketsEvery: z.number().int().min(1).optional(),
  }),
  z.object({
    kind: z.literal('sentiment'),
    source: z.literal('fear-greed'),
    ...timing,
    baseUrl: z.string().url().optional(),
  }),
  z.object({
    kind: z.literal('news'),
    source: z.literal('rss'),
    ...timing,
    name: z.string().min(1).max(64),
    url: z.string().url(),
  }),
]);
export type ContextSourceConfig = z.infer<typeof contextSourceSchema>;

/** The sources of `configs`; reads API key files now (a missing one is a ConfigError). */
export function createContextSources(configs: readonly ContextSourceConfig[], env: NodeJS.ProcessEnv): ContextSource[] {
  return configs.map((c) => {
    const t = {
      name: c.name,
      intervalMs: c.intervalSeconds === undefined ? undefined : c.intervalSeconds * 1000,
      staleAfterMs: c.staleAfterSeconds === undefined ? undefined : c.staleAfterSeconds * 1000,
      requestsPerMinute: c.requestsPerMinute,
    };
    switch (c.source) {
      case 'coingecko': {
        const file = c.apiKeyFile ?? (env.COINGECKO_API_KEY_FILE || undefined);
        const apiKey = file === undefined ? undefined : readSecretFile(file, 'coingecko apiKeyFile');
        return coingeckoSource({
          ...t,
          baseUrl: c.baseUrl,
          apiKey,
          apiKeyHeader: c.apiKeyHeader,
          vsCurrency: c.vsCurrency,
          pages: c.pages,
          perPage: c.perPage,
          priceAssets: c.priceAssets,
          marketsEvery: c.marketsEvery,
        });
      }
      case 'fear-greed':
        return fearGreedSource({ ...t, baseUrl: c.baseUrl });
      default:
        return rssSource({ ...t, name: c.name, url: c.url });
    }
  });
}
