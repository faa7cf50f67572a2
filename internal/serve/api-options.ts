import type { ApiOptions } from '../config/api.js';
import { type ApiConfig, apiConfig } from './api-config.js';

/** The server's config from the options; whether the data is simulated is left to the markets seen. */
export function apiConfigFromOptions(o: ApiOptions): ApiConfig {
  return apiConfig({
    intervals: o.intervals,
    dashboardInterval: o.dashboardInterval,
    source: { label: o.sourceLabel, simulated: undefined },
    marketIdleMs: o.marketIdleMs,
    maxMarkets: o.maxMarkets,
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
