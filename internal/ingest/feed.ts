import type { Agent } from 'node:http';
import type { Logger } from '../observe/logger.js';
import { UnavailableError } from '../runtime/errors.js';
import { retry } from '../runtime/retry.js';
import { RECONNECT } from '../runtime/retry-policies.js';
import { type CloseReason, Session } from './feed-session.js';
import { FrameQueue } from './frame-queue.js';
import type { ConnectionPlan } from './venue.js';

export type { CloseReason } from './feed-session.js';

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
  /** Each connection's agent (a proxy's CONNECT tunnel); default: a direct connection. */
  readonly agentFor?: (url: URL) => Agent | undefined;
}

export const DEFAULT_MAX_QUEUE_BYTES = 16 << 20;

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
