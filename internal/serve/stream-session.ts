import type { Logger } from 'pino';
import type { Bus, BusMessage, Subscription } from '../bus/bus.js';
import type { Alert } from '../market/alert.js';
import type { Candle } from '../market/candle.js';
import type { IndicatorValues } from '../market/indicator-values.js';
import type { VerificationEvent } from '../verify/verification.js';
import type { StreamConfig } from './api-config.js';
import type { ApiMetrics } from './api-metrics.js';
import { type IndexUpdate, SeenFilter } from './seen-filter.js';
import type { ParsedRequest, StreamPlan, StreamRequestParser, StreamTopic } from './stream-request.js';

/** The part of a WebSocket (ws) a session uses. */
export interface StreamSocket {
  /** Bytes accepted by send() and not yet handed to the operating system. */
  readonly bufferedAmount: number;
  send(data: string, cb: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

export interface StreamSessionDeps {
  readonly bus: Pick<Bus, 'subscribe'>;
  readonly socket: StreamSocket;
  readonly config: StreamConfig;
  readonly metrics: ApiMetrics;
  readonly logger: Logger;
  readonly parse: StreamRequestParser;
}

/** Close code for a client that does not read (RFC 6455: 1013 "try again later"). */
export const CLOSE_TOO_SLOW = 1013;
/** Close code for a client that breaks a limit of the protocol (RFC 6455: 1008 policy violation). */
export const CLOSE_POLICY = 1008;

const decoder = new TextDecoder();
const CONGESTION_POLL_MS = 50;
/** A client's close frame or a terminate follows a close this soon: a client that reads nothing does not read the close frame either. */
const TERMINATE_AFTER_MS = 2_000;
/** Longest error text sent back: a bad message must not draw a reply many times its size. */
const MAX_ERROR_CHARS = 300;

/**
 * One WebSocket client of /api/v1/stream. Each subscribed subject is a bus subscription with a
 * bounded buffer (`bufferMessages`, oldest dropped and counted); a loop per subscription takes
 * messages from it only while the socket has less than `maxSocketBytes` queued, so a slow
 * client costs at most its buffers and one socket's worth of bytes, never unbounded memory.
 * The client is told how many messages it lost (`{"type":"dropped"}`) before the next one it
 * gets; a client whose socket stays full for `slowClientMs` is closed with 1013.
 *
 * Bus repeats are dropped by identity (SeenFilter), so at-least-once delivery reaches the
 * client once, and overlapping subscriptions do not double messages either.
 */
export class StreamSession {
  private subs: Subscription[] = [];
  private readonly seen: SeenFilter;
  /** Drops of subscriptions already replaced. */
  private droppedBefore = 0;
  private droppedReported = 0;
  private lastWrite: Promise<void> = Promise.resolve();
  private congestedSince: number | undefined;
  private closed = false;
  /** Messages the client may still send now (a token bucket of messagesPerSecond). */
  private allowance: number;
  private allowanceAt = Date.now();

  constructor(private readonly deps: StreamSessionDeps) {
    this.seen = new SeenFilter(deps.config.dedupeKeys);
    this.allowance = deps.config.messagesPerSecond;
  }

  /**
   * Sends a control message (hello, subscribed, error) at once, ahead of buffered data. Replies
   * count against the socket's byte bound like data: a client that has left more than
   * `maxSocketBytes` unread and still sends is closed as too slow instead of queued more.
   */
  sendControl(message: Record<string, unknown>): void {
    if (this.closed) return;
    if (this.deps.socket.bufferedAmount > this.deps.config.maxSocketBytes) {
      this.closeSlow(`too slow: more than ${this.deps.config.maxSocketBytes} bytes unread`);
      return;
    }
    this.write(JSON.stringify(message));
  }

  /** Handles one message from the client: a text subscribe, or binary (refused). */
  onMessage(text: string, isBinary = false): void {
    if (this.closed || !this.withinRate()) return;
    const req: ParsedRequest = isBinary ? { ok: false, error: 'send JSON text messages' } : this.deps.parse(text);
    if (!req.ok) {
      this.sendError(req.error);
      return;
    }
    const { maxSubscriptions } = this.deps.config;
    if (req.plan.subjects.length > maxSubscriptions) {
      this.deps.metrics.streamRejected.inc({ reason: 'subscriptions' });
      this.sendError(`too many subscriptions: ${req.plan.subjects.length} subjects asked, at most ${maxSubscriptions}`);
      return;
    }
    this.subscribe(req.plan);
    this.sendControl({ type: 'subscribed', subjects: req.plan.subjects.map((s) => s.subject) });
  }

  /** Messages lost to full buffers over the connection's life. */
  get dropped(): number {
    return this.droppedBefore + this.subs.reduce((n, s) => n + s.dropped, 0);
  }

  /** Ends every subscription; the socket is the caller's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeAll();
  }

  private subscribe(plan: StreamPlan): void {
    this.unsubscribeAll();
    this.seen.clear();
    for (const { topic, subject } of plan.subjects) {
      const sub = this.deps.bus.subscribe(subject, { capacity: this.deps.config.bufferMessages });
      this.subs.push(sub);
      void this.pump(sub, topic);
    }
  }

  private unsubscribeAll(): void {
    for (const sub of this.subs) {
      this.droppedBefore += sub.dropped;
      sub.unsubscribe();
    }
    this.subs = [];
  }

  private async pump(sub: Subscription, topic: StreamTopic): Promise<void> {
    try {
      for await (const msg of sub) {
        // A subscription replaced while this loop waited must not send what it still held.
        if (!(await this.writable()) || !this.subs.includes(sub)) return;
        const text = this.encode(topic, msg);
        if (text === undefined) continue;
        this.reportDrops();
        this.write(text);
        this.deps.metrics.streamMessages.inc({ topic });
      }
    } catch (err) {
      this.deps.logger.warn({ err, subject: sub.subject }, 'stream subscription failed');
      this.deps.socket.close(1011, 'subscription failed');
    }
  }

  /** Waits while the socket is over its byte limit; false when the session ended meanwhile. */
  private async writable(): Promise<boolean> {
    const { socket, config } = this.deps;
    while (!this.closed && socket.bufferedAmount > config.maxSocketBytes) {
      const now = Date.now();
      this.congestedSince ??= now;
      if (now - this.congestedSince >= config.slowClientMs) {
        this.closeSlow();
        return false;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.lastWrite,
        new Promise((resolve) => {
          timer = setTimeout(resolve, CONGESTION_POLL_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    this.congestedSince = undefined;
    return !this.closed;
  }

  private sendError(error: string): void {
    this.sendControl({
      type: 'error',
      error: error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS - 3)}...` : error,
    });
  }

  /** Takes one message from the allowance; a client over it is closed with 1008. */
  private withinRate(): boolean {
    const { messagesPerSecond } = this.deps.config;
    const now = Date.now();
    this.allowance = Math.min(
      messagesPerSecond,
      this.allowance + ((now - this.allowanceAt) * messagesPerSecond) / 1000,
    );
    this.allowanceAt = now;
    if (this.allowance >= 1) {
      this.allowance -= 1;
      return true;
    }
    this.deps.metrics.streamRejected.inc({ reason: 'rate' });
    this.deps.logger.info({ messagesPerSecond }, 'stream client sends too fast, closing');
    this.closeWith(CLOSE_POLICY, `too many messages: at most ${messagesPerSecond} per second`);
    return false;
  }

  private reportDrops(): void {
    const total = this.dropped;
    if (total <= this.droppedReported) return;
    const count = total - this.droppedReported;
    this.droppedReported = total;
    this.deps.metrics.streamDropped.inc(count);
    this.write(JSON.stringify({ type: 'dropped', count, total }));
  }

  private write(text: string): void {
    this.lastWrite = new Promise((resolve) => this.deps.socket.send(text, () => resolve()));
  }

  private closeSlow(reason = `too slow: send buffer full for ${this.deps.config.slowClientMs} ms`): void {
    const { socket, metrics, logger } = this.deps;
    metrics.streamClosedSlow.inc();
    logger.info({ queuedBytes: socket.bufferedAmount, dropped: this.dropped }, 'stream client too slow, closing');
    this.closeWith(CLOSE_TOO_SLOW, reason);
  }

  /** Ends the session and closes the socket; terminates it if the client does not complete the close. */
  private closeWith(code: number, reason: string): void {
    const { socket } = this.deps;
    this.close();
    socket.close(code, reason);
    setTimeout(() => socket.terminate(), TERMINATE_AFTER_MS).unref();
  }

  /** The client message for one bus message, or undefined when it is a repeat or does not decode. */
  private encode(topic: StreamTopic, msg: BusMessage): string | undefined {
    const raw = decoder.decode(msg.data);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
    const valid = VALID[topic](value);
    if (!valid) {
      this.deps.metrics.streamUndecodable.inc();
      this.deps.logger.debug({ subject: msg.subject }, 'undecodable bus message not forwarded');
      return undefined;
    }
    const fresh =
      topic === 'candle'
        ? this.seen.candle(value as Candle)
        : topic === 'alert'
          ? this.seen.alert(value as Alert)
          : topic === 'indicator'
            ? this.seen.indicator(value as IndicatorValues)
            : topic === 'verification'
              ? this.seen.verification(value as VerificationEvent)
              : this.seen.indexValue(value as IndexUpdate);
    if (!fresh) {
      this.deps.metrics.streamDuplicates.inc();
      return undefined;
    }
    // The payload parsed as JSON: spliced in as it is rather than serialized again.
    return `{"type":"${topic}","subject":${JSON.stringify(msg.subject)},"data":${raw}}`;
  }
}

const VALID: Record<StreamTopic, (v: unknown) => boolean> = {
  candle: isCandle,
  alert: isAlert,
  index: isIndex,
  indicator: isIndicator,
  verification: isVerification,
};

function isVerification(v: unknown): v is VerificationEvent {
  const x = v as Partial<VerificationEvent> | null;
  return (
    isIndicator(v) && typeof x?.status === 'string' && typeof x.revision === 'number' && typeof x.checkedAt === 'number'
  );
}

function isIndicator(v: unknown): v is IndicatorValues {
  const x = v as Partial<IndicatorValues> | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.exchange === 'string' &&
    typeof x.symbol === 'string' &&
    typeof x.interval === 'string' &&
    typeof x.openTime === 'number'
  );
}

function isCandle(v: unknown): v is Candle {
  const c = v as Partial<Candle> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.exchange === 'string' &&
    typeof c.symbol === 'string' &&
    typeof c.interval === 'string' &&
    typeof c.openTime === 'number' &&
    typeof c.revision === 'number' &&
    typeof c.trades === 'number' &&
    typeof c.closed === 'boolean'
  );
}

function isAlert(v: unknown): v is Alert {
  const a = v as Partial<Alert> | null;
  return typeof a === 'object' && a !== null && typeof a.id === 'string' && typeof a.kind === 'string';
}

function isIndex(v: unknown): v is IndexUpdate {
  const x = v as Partial<IndexUpdate> | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.asset === 'string' &&
    typeof x.time === 'number' &&
    typeof x.price === 'number'
  );
}
