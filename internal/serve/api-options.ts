import type { ApiOptions } from '../config/api.js';
import { ConfigError } from '../runtime/errors.js';
import { type ApiConfig, apiConfig } from './api-config.js';
import type { ApiKey } from './api-keys.js';

/**
 * The server's config from the options and, with `--auth keys`, the keys read from the file;
 * whether the data is simulated is left to the markets seen.
 */
export function apiConfigFromOptions(o: ApiOptions, keys?: readonly ApiKey[]): ApiConfig {
  if (o.auth === 'keys' && keys === undefined) throw new ConfigError('--auth keys: no API keys were read');
  return apiConfig({
    ...(o.auth === 'keys' && keys ? { auth: { keys } } : {}),
    intervals: o.intervals,
    dashboardInterval: o.dashboardInterval,
    source: { label: o.sourceLabel, simulated: undefined },
    marketIdleMs: o.marketIdleMs,
    maxMarkets: o.maxMarkets,
    rateLimitPerMinute: o.rateLimitPerMinute,
    corsOrigins: o.corsOrigins,
    retention: o.retention,
    stream: {
      bufferMessages: o.streamBuffer,
      slowClientMs: o.slowClientMs,
      maxConnectionsPerAddress: o.streamMaxConnectionsPerAddress,
      maxSubscriptions: o.streamMaxSubscriptions,
      messagesPerSecond: o.streamMessagesPerSecond,
      maxPayloadBytes: o.streamMaxMessageBytes,
      pingMs: o.streamPingMs,
      allowedOrigins: o.streamAllowedOrigins,
    },
    listen: { port: o.port, host: o.host },
  });
}
