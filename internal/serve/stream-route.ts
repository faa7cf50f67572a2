import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import type { ApiConfig, StreamConfig } from './api-config.js';
import type { ApiMetrics } from './api-metrics.js';
import { streamResponses } from './response-schemas.js';
import { streamRequestParser } from './stream-request.js';
import { CLOSE_POLICY, StreamSession } from './stream-session.js';

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

/** Close code ws sends for a message over maxPayload (RFC 6455: 1009 message too big). */
const CLOSE_TOO_BIG = 1009;

/**
 * GET /api/v1/stream: live candles, alerts and index values over a WebSocket (docs/API.md).
 * Before the upgrade, a browser page of another origin (not in `allowedOrigins`) is refused with
 * 403 and an address at its connection limit with 429; the session bounds what a connection may
 * send and be sent, and a pong must echo the server's last ping.
 */
export function registerStreamRoute(app: FastifyInstance, ctx: StreamContext): void {
  const { config, metrics } = ctx;
  const limits = config.stream;
  const parse = streamRequestParser(config.intervals);
  const perAddress = new Map<string, number>();
  const refuse = (reason: string) => metrics.streamRejected.inc({ reason });

  app.route({
    method: 'GET',
    url: '/api/v1/stream',
    schema: { response: streamResponses() },
    // A plain GET: say what the route is for rather than @fastify/websocket's empty 404.
    handler: async (_req, reply) =>
      reply.code(426).header('upgrade', 'websocket').send({
        statusCode: 426,
        error: 'Upgrade Required',
        code: 'TM_UPGRADE_REQUIRED',
        message: '/api/v1/stream is a WebSocket: open it with an upgrade request',
      }),
    preValidation: async (req, reply) => {
      if (!originAllowed(req, limits)) {
        refuse('origin');
        ctx.logger.info({ client: req.ip, origin: req.headers.origin }, 'stream client of another origin refused');
        return reply.code(403).send({
          statusCode: 403,
          error: 'Forbidden',
          code: 'TM_ORIGIN',
          message: `origin ${String(req.headers.origin)} may not open the stream`,
        });
      }
      if ((perAddress.get(req.ip) ?? 0) >= limits.maxConnectionsPerAddress) {
        refuse('connections');
        return reply.code(429).send({
          statusCode: 429,
          error: 'Too Many Requests',
          code: 'TM_TOO_MANY_CONNECTIONS',
          message: `at most ${limits.maxConnectionsPerAddress} stream connections per client address`,
        });
      }
    },
    wsHandler: (socket, req) => {
      const logger = ctx.logger.child({ client: req.ip });
      // Upgrades that passed the check together are counted here, where it is exact.
      const open = (perAddress.get(req.ip) ?? 0) + 1;
      perAddress.set(req.ip, open);
      const release = (): void => {
        const left = (perAddress.get(req.ip) ?? 1) - 1;
        if (left <= 0) perAddress.delete(req.ip);
        else perAddress.set(req.ip, left);
      };
      if (open > limits.maxConnectionsPerAddress) {
        refuse('connections');
        socket.once('close', release);
        socket.close(CLOSE_POLICY, `at most ${limits.maxConnectionsPerAddress} connections per client address`);
        return;
      }
      const session = new StreamSession({ bus: ctx.bus, socket, config: limits, metrics, logger, parse });
      ctx.sessions.add(session);
      metrics.streamConnections.inc();
      // A pong counts only when it echoes the last ping's random payload: a client that sends
      // pongs of its own without reading is not alive for that.
      let awaited: Buffer | undefined;
      const ping = setInterval(() => {
        if (awaited) return socket.terminate();
        awaited = randomBytes(8);
        socket.ping(awaited);
      }, limits.pingMs);
      ping.unref();
      socket.on('pong', (data) => {
        if (awaited?.equals(data)) awaited = undefined;
      });
      socket.on('message', (data, isBinary) => session.onMessage(isBinary ? '' : data.toString(), isBinary));
      socket.on('close', (code) => {
        clearInterval(ping);
        release();
        session.close();
        ctx.sessions.delete(session);
        metrics.streamConnections.dec();
        if (code === CLOSE_TOO_BIG) refuse('message_size');
        logger.debug({ dropped: session.dropped, code }, 'stream client left');
      });
      socket.on('error', (err) => logger.debug({ err }, 'stream socket error'));
      session.sendControl({ type: 'hello', ...ctx.info() });
    },
  });
}

/** No Origin (not a browser), the API's own origin, or one allowed by configuration. */
function originAllowed(req: FastifyRequest, limits: StreamConfig): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || limits.allowedOrigins.includes('*')) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return host === req.headers.host?.toLowerCase() || limits.allowedOrigins.includes(origin.toLowerCase());
}
