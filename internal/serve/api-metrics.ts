import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The API's metrics (docs/API.md), on the process registry. */
export interface ApiMetrics {
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly requestSeconds: Histogram<'route'>;
  readonly streamConnections: Gauge;
  readonly streamMessages: Counter<'topic'>;
  /** Messages lost because a connection's buffer was full (drop-oldest). */
  readonly streamDropped: Counter;
  /** Bus repeats (at-least-once) not forwarded. */
  readonly streamDuplicates: Counter;
  readonly streamClosedSlow: Counter;
  /** Connections refused or closed, and requests refused, for breaking a limit (origin, connections, rate, subscriptions, message_size). */
  readonly streamRejected: Counter<'reason'>;
  readonly streamUndecodable: Counter;
  /** Markets the directory forgot: idle (no price for a while) or full (over the bound). */
  readonly marketsForgotten: Counter<'reason'>;
}

export function createApiMetrics(registry: Registry): ApiMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'tickmesh_api_requests_total',
      help: 'HTTP requests answered, by route, method and status code',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'tickmesh_api_request_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    streamConnections: new Gauge({
      name: 'tickmesh_api_stream_connections',
      help: 'Open WebSocket connections on /api/v1/stream',
      registers,
    }),
    streamMessages: new Counter({
      name: 'tickmesh_api_stream_messages_total',
      help: 'Messages sent to WebSocket clients, by topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    streamDropped: new Counter({
      name: 'tickmesh_api_stream_dropped_total',
      help: 'Messages dropped (oldest first) because a client connection fell behind',
      registers,
    }),
    streamDuplicates: new Counter({
      name: 'tickmesh_api_stream_duplicates_total',
      help: 'Repeated bus messages (at-least-once delivery) not forwarded to a client',
      registers,
    }),
    streamClosedSlow: new Counter({
      name: 'tickmesh_api_stream_slow_closes_total',
      help: 'WebSocket connections closed because the client did not read for too long',
      registers,
    }),
    streamRejected: new Counter({
      name: 'tickmesh_api_stream_rejected_total',
      help: 'WebSocket connections or requests refused for breaking a limit, by the limit (origin, connections, rate, subscriptions, message_size)',
      labelNames: ['reason'] as const,
      registers,
    }),
    streamUndecodable: new Counter({
      name: 'tickmesh_api_stream_undecodable_total',
      help: 'Bus messages that did not decode and were not forwarded',
      registers,
    }),
    marketsForgotten: new Counter({
      name: 'tickmesh_api_markets_forgotten_total',
      help: 'Markets dropped from the market list: idle (no price for a while, none stored) or full (over the bound)',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
}
