import type { Logger } from '../observe/logger.js';
import { UnavailableError } from '../runtime/errors.js';
import { retry } from '../runtime/retry.js';
import { RECONNECT } from '../runtime/retry-policies.js';
import { FrameQueue } from './frame-queue.js';
import type { ConnectionPlan } from './venue.js';
import { WebSocketClient } from './websocket/client.js';
import { DEFAULT_MAX_FRAGMENTS, MessageTooBigError } from './websocket/frame-reader.js';

/**
 * The shared feed base: one logical connection to a venue, kept alive. It connects, sends the
 * plan's subscribe messages no faster than the venue allows, pings, notices a dead or silent
 * socket, reconnects with jittered exponential backoff, replaces the connection before the
 * venue's forced disconnect (make-before-break), and stops when its AbortSignal aborts.
 *
 * Frames come out of `batches()` (or one by one, `events()`) in receive order. The frame queue
 * is bounded in frames and bytes: when the consumer falls behind, the socket is paused (TCP
 * pushes back on the venue) instead of buffering without bound. A message over
 * `maxMessageBytes` or `maxFragments` closes the connection with 1009 and the feed reconnects
 * (close reason `message-too-big` or `too-many-fragments`). The feed never parses frames:
 * adapters do (venue.ts).
 */
export interface FeedOptions {
  readonly venue: string;
  readonly plan: ConnectionPlan;
  readonly logger: Logger;
  /** WebSocket protocol ping interval; 0 disables. Default 20 s. */
  readonly pingIntervalMs?: number;
  /** A ping unanswered for this long closes the connection. Default 10 s. */
  readonly pongTimeoutMs?: number;
  /**
   * No frame at all for this long closes the connection as stale; 0 disables. Venues that send
   * heartbeats (Coinbase, Kraken) keep a quiet market's connection fresh; on Binance, set it above
   * the longest quiet spell of the least active market on the connection. Default 60 s.
   */
  readonly staleAfterMs?: number;
  readonly handshakeTimeoutMs?: number;
  /** First reconnect delay cap; doubles per failed attempt up to maxDelayMs, full jitter (RECONNECT). */
  readonly reconnectInitialDelayMs?: number;
  readonly reconnectMaxDelayMs?: number;
  /** Frames held for the consumer before the socket is paused. Default 10,000. */
  readonly queueCapacity?: number;
  /** Bytes of frames held for the consumer before the socket is paused. Default 16 MiB. */
  readonly maxQueueBytes?: number;
  /**
   * The largest message accepted, all its fragments together; a larger one closes the connection
   * with 1009 and the feed reconnects. Default 1 MiB: a venue's trade message is a few hundred
   * bytes, a snapshot of recent trades tens of kilobytes.
   */
  readonly maxMessageBytes?: number;
  /** The most frames one message may span, empty continuations included; more close with 1009. Default 1024. */
  readonly maxFragments?: number;
  readonly random?: () => number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;
export const DEFAULT_MAX_QUEUE_BYTES = 16 << 20;

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

export type FeedEvent =
  | { readonly kind: 'frame'; readonly data: string; readonly receiveTime: number; readonly connection: number }
  | {
      readonly kind: 'open';
      readonly connection: number;
      readonly url: string;
      readonly rotation: boolean;
      /** After a lost connection: milliseconds from its loss to this one's opening and subscribing. */
      readonly downMs?: number;
    }
  | {
      readonly kind: 'close';
      readonly connection: number;
      readonly reason: CloseReason;
      readonly code?: number;
      readonly detail?: string;
    };

interface SessionEnd {
  readonly reason: CloseReason;
  /** Whether the session delivered at least one frame: a healthy session resets the backoff. */
  readonly healthy: boolean;
  /** Set when the session was replaced by a rotation: the feed continues on this one. */
  readonly successor?: Session;
}

let connectionIds = 0;

export class Feed {
  private readonly queue: FrameQueue;
  private readonly logger: Logger;
  private active: Session | undefined;
  private started = false;
  /** When the active connection was lost, until the next one opens. */
  private lostAt: number | undefined;

  constructor(private readonly options: FeedOptions) {
    this.logger = options.logger.child({ component: 'feed', venue: options.venue });
    this.queue = new FrameQueue(
      options.queueCapacity ?? 10_000,
      options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES,
      (paused) => this.active?.setPaused(paused),
    );
  }

  /** True while a connection is open and subscribed. */
  get connected(): boolean {
    return this.active?.isOpen ?? false;
  }

  get queueDepth(): number {
    return this.queue.size;
  }

  /** Frame text queued for the consumer, in UTF-16 code units (bytes for ASCII). */
  get queueBytes(): number {
    return this.queue.bytes;
  }

  /**
   * Starts the feed and hands over its events in receive order, every event queued since the last
   * batch at once (at least one); ends after `signal` aborts and the queued events are consumed.
   */
  async *batches(signal: AbortSignal): AsyncGenerator<readonly FeedEvent[]> {
    if (this.started) throw new Error('a feed is consumed once');
    this.started = true;
    void this.run(signal).catch((err: unknown) => {
      this.logger.error({ err }, 'feed loop failed');
      this.queue.close();
    });
    try {
      for (let batch = await this.queue.take(); batch !== undefined; batch = await this.queue.take()) yield batch;
    } finally {
      this.queue.discard();
    }
  }

  /** `batches`, one event at a time. */
  async *events(signal: AbortSignal): AsyncGenerator<FeedEvent> {
    for await (const batch of this.batches(signal)) yield* batch;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let lost: CloseReason | undefined;
    await retry(
      async (_attempt, reset) => {
        let session = this.startSession(signal);
        for (;;) {
          const end = await session.ended;
          if (end.successor) {
            session = end.successor;
            continue;
          }
          if (signal.aborted) return;
          if (end.healthy) reset();
          lost = end.reason;
          throw new UnavailableError(`${this.options.venue} connection lost: ${end.reason}`);
        }
      },
      {
        ...RECONNECT,
        initialDelayMs: this.options.reconnectInitialDelayMs ?? RECONNECT.initialDelayMs,
        maxDelayMs: this.options.reconnectMaxDelayMs ?? RECONNECT.maxDelayMs,
        signal,
        ...(this.options.random ? { random: this.options.random } : {}),
        onRetry: (_err, failures, delayMs) => this.logger.info({ reason: lost, delayMs, failures }, 'reconnecting'),
      },
    ).catch((err: unknown) => {
      if (!signal.aborted) throw err;
    });
    this.queue.close();
  }

  private startSession(signal: AbortSignal): Session {
    const session = new Session(++connectionIds, this.options, this.logger, signal, {
      frame: (s, data, receiveTime) => {
        if (s !== this.active) {
          // The successor's first frame: it is subscribed, so the old connection can go.
          if (!s.isSuccessorOf(this.active)) return;
          const old = this.active;
          this.activate(s, true);
          old?.retire(s);
        }
        this.queue.push({ kind: 'frame', data, receiveTime, connection: s.id });
      },
      opened: (s) => {
        // A replacement stays in the shadow until it delivers its first frame.
        if (s.predecessor === undefined) this.activate(s, false);
      },
      closed: (s, reason, code, detail) => {
        if (s === this.active) {
          this.active = undefined;
          // Losing a connection is news to the consumer; its own abort is not.
          if (reason === 'aborted') return;
          this.lostAt = Date.now();
          this.queue.push(
            code === undefined
              ? { kind: 'close', connection: s.id, reason }
              : { kind: 'close', connection: s.id, reason, code, ...(detail ? { detail } : {}) },
          );
        }
      },
      rotate: (s) => {
        const next = this.startSession(signal);
        s.successor = next;
        next.predecessor = s;
      },
    });
    return session;
  }

  private activate(s: Session, rotation: boolean): void {
    this.active = s;
    s.setPaused(this.queue.paused);
    const url = this.options.plan.url;
    const lostAt = this.lostAt;
    this.lostAt = undefined;
    this.queue.push(
      lostAt === undefined
        ? { kind: 'open', connection: s.id, url, rotation }
        : { kind: 'open', connection: s.id, url, rotation, downMs: Date.now() - lostAt },
    );
  }
}

interface SessionHooks {
  frame(s: Session, data: string, receiveTime: number): void;
  opened(s: Session): void;
  closed(s: Session, reason: CloseReason, code?: number, detail?: string): void;
  rotate(s: Session): void;
}

/** One WebSocket connection with its timers. Ends exactly once, with a reason. */
class Session {
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
