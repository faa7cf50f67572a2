import type { Agent } from 'node:http';
import type { Logger } from '../observe/logger.js';
import type { FeedOptions } from './feed.js';
import { WebSocketClient } from './websocket/client.js';
import { DEFAULT_MAX_FRAGMENTS, MessageTooBigError } from './websocket/frame-reader.js';

/** The largest message a session accepts by default (FeedOptions.maxMessageBytes). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;

/** Why a session ended. */
export type CloseReason =
  | 'venue-closed'
  | 'error'
  | 'message-too-big'
  | 'too-many-fragments'
  | 'stale'
  | 'pong-timeout'
  | 'handshake-failed'
  | 'rotated'
  | 'aborted';

export interface SessionEnd {
  readonly reason: CloseReason;
  /** Whether the session delivered at least one frame: a healthy session resets the backoff. */
  readonly healthy: boolean;
  /** Set when the session was replaced by a rotation: the feed continues on this one. */
  readonly successor?: Session;
}

export interface SessionHooks {
  frame(s: Session, data: string, receiveTime: number): void;
  opened(s: Session): void;
  closed(s: Session, reason: CloseReason, code?: number, detail?: string): void;
  rotate(s: Session): void;
}

/**
 * One WebSocket connection of a Feed, with its timers: it sends the plan's messages no faster than
 * the venue allows, pings, closes a silent or unanswering socket, and asks for its own replacement
 * before the venue's forced disconnect. Ends exactly once, with a reason; the Feed reconnects.
 */
export class Session {
  readonly ended: Promise<SessionEnd>;
  successor: Session | undefined;
  predecessor: Session | undefined;
  isOpen = false;
  private resolveEnd!: (end: SessionEnd) => void;
  private readonly ws: WebSocketClient;
  private readonly timers: NodeJS.Timeout[] = [];
  private pongTimer: NodeJS.Timeout | undefined;
  private lastFrameAt = Date.now();
  private frames = 0;
  private closing: CloseReason | undefined;
  private done = false;
  private paused = false;
  private readonly outbox: string[] = [];
  private outboxTimer: NodeJS.Timeout | undefined;
  private retiredFor: Session | undefined;

  constructor(
    readonly id: number,
    private readonly options: FeedOptions,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
    private readonly hooks: SessionHooks,
  ) {
    this.ended = new Promise((resolve) => {
      this.resolveEnd = resolve;
    });
    this.ws = new WebSocketClient(
      options.plan.url,
      {
        handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
        maxPayload: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        maxFragments: options.maxFragments ?? DEFAULT_MAX_FRAGMENTS,
        ...proxyAgent(options),
      },
      {
        open: () => this.onOpen(),
        text: (data) => this.onMessage(data),
        binary: (data) => {
          if (this.frames === 0) this.logger.debug({ connection: this.id }, 'binary frame read as UTF-8');
          this.onMessage(data.toString('utf8'));
        },
        pong: () => {
          clearTimeout(this.pongTimer);
          this.pongTimer = undefined;
        },
        error: (err) => {
          this.logger.warn({ connection: id, err: err.message }, 'connection error');
          if (this.closing) return;
          if (err instanceof MessageTooBigError) {
            this.closing = err.limit === 'fragments' ? 'too-many-fragments' : 'message-too-big';
          } else this.closing = this.isOpen ? 'error' : 'handshake-failed';
        },
        close: (code, reason) => this.onClose(code, reason),
      },
    );
    const onAbort = (): void => this.close('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    void this.ended.then(() => signal.removeEventListener('abort', onAbort));
    if (signal.aborted) this.close('aborted');
  }

  isSuccessorOf(s: Session | undefined): boolean {
    return s !== undefined && s.successor === this && this.retiredFor === undefined;
  }

  setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) this.ws.pause();
    else {
      this.lastFrameAt = Date.now();
      this.ws.resume();
    }
  }

  /** Closes this session because `successor` took over. */
  retire(successor: Session): void {
    this.retiredFor = successor;
    this.close('rotated');
  }

  close(reason: CloseReason): void {
    if (this.closing === undefined || reason === 'aborted') this.closing = reason;
    this.stopTimers();
    if (this.ws.state === 'connecting') this.ws.terminate();
    else if (this.ws.state === 'open') {
      if (reason === 'aborted' || reason === 'rotated') this.ws.close(1000, reason);
      else this.ws.terminate();
      // A peer that never answers the close handshake must not hold the session open.
      const t = setTimeout(() => this.ws.terminate(), 2_000);
      t.unref();
    } else if (this.ws.state === 'closed') this.finish(reason, undefined, '');
  }

  private onOpen(): void {
    this.isOpen = true;
    this.lastFrameAt = Date.now();
    this.logger.info({ connection: this.id, url: this.options.plan.url }, 'connected');
    this.hooks.opened(this);
    for (const m of this.options.plan.subscribe) this.outbox.push(m);
    this.pumpOutbox();
    const ping = this.options.pingIntervalMs ?? 20_000;
    if (ping > 0) this.every(ping, () => this.ping());
    const keepalive = this.options.plan.keepalive;
    if (keepalive) {
      this.every(keepalive.intervalMs, () => {
        this.outbox.push(keepalive.message);
        this.pumpOutbox();
      });
    }
    const stale = this.options.staleAfterMs ?? 60_000;
    if (stale > 0) {
      this.every(Math.max(10, Math.min(1_000, stale / 4)), () => {
        if (this.paused) this.lastFrameAt = Date.now();
        else if (Date.now() - this.lastFrameAt > stale) {
          this.logger.warn({ connection: this.id, silentMs: Date.now() - this.lastFrameAt }, 'connection is stale');
          this.close('stale');
        }
      });
    }
    const lifetime = this.options.plan.maxLifetimeMs;
    if (lifetime !== undefined && lifetime > 0) this.scheduleRotation(lifetime);
  }

  private scheduleRotation(afterMs: number): void {
    const t = setTimeout(() => {
      if (this.done || this.closing) return;
      this.logger.info({ connection: this.id }, 'replacing connection before the venue closes it');
      this.hooks.rotate(this);
      // A successor that fails before its first frame leaves this one in place; try again later.
      void this.successor?.ended.then((end) => {
        if (this.done || end.successor !== undefined || this.successor?.retiredFor !== undefined) return;
        if (this.successor && !this.successor.frames) {
          this.successor = undefined;
          this.scheduleRotation(Math.min(60_000, afterMs));
        }
      });
    }, afterMs);
    this.timers.push(t);
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  private ping(): void {
    if (this.ws.state !== 'open' || this.pongTimer) return;
    this.ws.ping();
    this.pongTimer = setTimeout(() => {
      this.logger.warn({ connection: this.id }, 'ping not answered');
      this.close('pong-timeout');
    }, this.options.pongTimeoutMs ?? 10_000);
  }

  /** Sends queued messages no faster than the plan's rate. */
  private pumpOutbox(): void {
    if (this.outboxTimer || this.outbox.length === 0 || this.ws.state !== 'open') return;
    const message = this.outbox.shift() as string;
    this.ws.send(message);
    const rate = this.options.plan.maxOutgoingPerSecond;
    const gap = rate ? Math.ceil(1000 / rate) : 0;
    this.outboxTimer = setTimeout(() => {
      this.outboxTimer = undefined;
      this.pumpOutbox();
    }, gap);
  }

  private onMessage(text: string): void {
    if (this.closing) return;
    const receiveTime = Date.now();
    this.lastFrameAt = receiveTime;
    this.frames += 1;
    this.hooks.frame(this, text, receiveTime);
  }

  private onClose(code: number, reason: string): void {
    this.finish(this.closing ?? 'venue-closed', code, reason);
  }

  private finish(reason: CloseReason, code: number | undefined, detail: string): void {
    if (this.done) return;
    this.done = true;
    this.isOpen = false;
    this.stopTimers();
    if (reason !== 'rotated' && reason !== 'aborted') {
      this.logger.warn({ connection: this.id, reason, code, detail }, 'connection closed');
    }
    this.hooks.closed(this, reason, code, detail);
    const healthy = this.frames > 0;
    const successor = reason === 'rotated' ? this.retiredFor : undefined;
    if (successor) this.resolveEnd({ reason, healthy, successor });
    else if (this.successor?.isOpen && !this.signal.aborted) {
      // The venue closed us while a replacement was subscribing: the replacement takes over now.
      const next = this.successor;
      this.resolveEnd({ reason, healthy, successor: next });
      next.adopt();
    } else {
      this.successor?.close(this.signal.aborted ? 'aborted' : 'error');
      this.resolveEnd({ reason, healthy });
    }
  }

  /** Becomes the active session because its predecessor died before handing over. */
  adopt(): void {
    this.predecessor = undefined;
    this.hooks.opened(this);
  }

  private stopTimers(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
    clearTimeout(this.pongTimer);
    clearTimeout(this.outboxTimer);
    this.pongTimer = undefined;
    this.outboxTimer = undefined;
  }
}

function proxyAgent(options: FeedOptions): { agent?: Agent } {
  const agent = options.agentFor?.(new URL(options.plan.url));
  return agent ? { agent } : {};
}
