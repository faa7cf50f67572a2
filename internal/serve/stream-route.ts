import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import type { ApiConfig } from './api-config.js';
import type { ApiMetrics } from './api-metrics.js';
import { streamRequestParser } from './stream-request.js';
import { StreamSession } from './stream-session.js';

export interface StreamContext {
  readonly bus: Pick<Bus, 'subscribe'>;
  readonly config: ApiConfig;
  readonly metrics: ApiMetrics;
  readonly logger: Logger;
  /** Sent in the hello message: what the dashboard needs to label the data. */
  readonly info: () => Record<string, unknown>;
  /** Open sessions, for shutdown. */
  readonly sessions: Set<StreamSession>;
}

/** GET /api/v1/stream: live candles, alerts and index values over a WebSocket (docs/API.md). */
export function registerStreamRoute(app: FastifyInstance, ctx: StreamContext): void {
  const parse = streamRequestParser(ctx.config.intervals);
  app.get('/api/v1/stream', { websocket: true }, (socket, req) => {
    const logger = ctx.logger.child({ client: req.ip });
    const session = new StreamSession({
      bus: ctx.bus,
      socket,
      config: ctx.config.stream,
      metrics: ctx.metrics,
      logger,
      parse,
    });
    ctx.sessions.add(session);
    ctx.metrics.streamConnections.inc();
    let alive = true;
    const ping = setInterval(() => {
      // No pong since the last ping: the peer is gone without closing.
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, ctx.config.stream.pingMs);
    ping.unref();
    socket.on('pong', () => {
      alive = true;
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) session.sendControl({ type: 'error', error: 'send JSON text messages' });
      else session.onMessage(data.toString());
    });
    socket.on('close', () => {
      clearInterval(ping);
      session.close();
      ctx.sessions.delete(session);
      ctx.metrics.streamConnections.dec();
      logger.debug({ dropped: session.dropped }, 'stream client left');
    });
    socket.on('error', (err) => logger.debug({ err }, 'stream socket error'));
    session.sendControl({ type: 'hello', ...ctx.info() });
  });
}
