import { isAscii, isUtf8 } from 'node:buffer';
import { ProtocolError } from '../../runtime/errors.js';

/**
 * The client side of RFC 6455's framing, read from a byte stream: socket chunks in, whole
 * messages and control frames out, in order. No I/O and no extension (the client never offers
 * one), so any RSV bit is an error.
 *
 * It exists for speed. A venue sends one small frame per trade, several hundred per socket read
 * at full rate. The frames are read where they lie in the chunk, with no Buffer view and no
 * native call per frame: a run of whole text frames in one read is checked for ASCII and decoded
 * with one call each, and every frame's text is a substring of that (see `flushRun`). Text that
 * is not all ASCII is decoded frame by frame and checked as UTF-8 only when it holds U+FFFD (see
 * `text`). A frame split across reads is copied once, into a buffer of its own size, as its
 * bytes arrive.
 *
 * What it holds is bounded whatever the peer sends: the bytes of one incomplete frame (its
 * header, then at most `maxPayload` more) and the fragments of one message, copied out of the
 * socket's chunks (at most `maxPayload` bytes together, in at most `maxFragments` frames, empty
 * continuation frames included). A message beyond either limit is refused with 1009 as soon as
 * the header of the frame that crosses it arrives.
 *
 * `push` takes the chunk over: it overwrites the header bytes of the frames it has read (so
 * that a run of frames is one ASCII range). Socket reads are the caller's own; pass a copy of
 * anything else.
 *
 * A broken frame throws ProtocolError with the close code RFC 6455 gives it; the reader is spent
 * after that, and after a close frame: later bytes are ignored.
 */
export interface FrameHandlers {
  /** A whole text message, its UTF-8 validated. */
  text(data: string): void;
  /** A whole binary message; the buffer may be a view of a socket chunk. */
  binary(data: Buffer): void;
  ping(payload: Buffer): void;
  pong(payload: Buffer): void;
  /** The peer's close frame: its code (1005 when it gave none) and reason. */
  close(code: number, reason: string): void;
}

/** Frames one message may span by default: far above what a venue sends, far below a flood. */
export const DEFAULT_MAX_FRAGMENTS = 1024;

/** A message refused for its size or its number of fragments: RFC 6455's 1009, "too big to process". */
export class MessageTooBigError extends ProtocolError {
  constructor(
    readonly limit: 'message-bytes' | 'fragments',
    message: string,
  ) {
    super(1009, message);
  }
}

const CONTINUATION = 0x0;
const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;
const EMPTY = Buffer.alloc(0);
const PING = 0x9;
const PONG = 0xa;

/** Close codes a peer may send (RFC 6455 section 7.4; 1004-1006 and 1015 are never sent). */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  );
}

export class FrameReader {
  /** An incomplete frame: `needed` bytes long, the first `restBytes` of them arrived. */
  private rest: Buffer = EMPTY;
  private restBytes = 0;
  private needed = 0;
  /** The fragments of a message in progress, copied end to end; its frames and opcode (0: none). */
  private assembly: Buffer = EMPTY;
  private fragmentBytes = 0;
  private fragmentCount = 0;
  private fragmentOpcode = 0;
  private spent = false;
  /** The run of whole text frames read from the buffer in hand and not yet handed over. */
  private runFrom = 0;
  private runEnd = 0;
  private runCount = 0;
  private readonly runStarts: number[] = [];
  private readonly runEnds: number[] = [];

  constructor(
    private readonly handlers: FrameHandlers,
    /** The largest message accepted, in bytes; a larger one is refused with 1009. */
    private readonly maxPayload: number,
    /** The most frames one message may span; more are refused with 1009. */
    private readonly maxFragments = DEFAULT_MAX_FRAGMENTS,
  ) {}

  /** Bytes held between pushes: an incomplete frame and the fragments of a message in progress. */
  get bufferedBytes(): number {
    return this.rest.length + this.assembly.length;
  }

  push(chunk: Buffer): void {
    let c = chunk;
    while (!this.spent) {
      if (this.restBytes === 0) {
        this.parse(c);
        return;
      }
      // Complete the pending piece with only the bytes it lacks, then go on in the chunk itself.
      const missing = this.needed - this.restBytes;
      if (c.length < missing) {
        c.copy(this.rest, this.restBytes);
        this.restBytes += c.length;
        return;
      }
      c.copy(this.rest, this.restBytes, 0, missing);
      const joined = this.rest;
      this.rest = EMPTY;
      this.restBytes = 0;
      this.parse(joined);
      if (missing === c.length) return;
      c = c.subarray(missing);
    }
  }

  /** Whatever ends the scan (the end of the buffer, a frame that breaks the rules), the frames before go out first. */
  private parse(buf: Buffer): void {
    try {
      this.scan(buf);
    } finally {
      this.flushRun(buf);
    }
  }

  private scan(buf: Buffer): void {
    const end = buf.length;
    let off = 0;
    while (off < end) {
      if (this.spent) return;
      const avail = end - off;
      if (avail < 2) {
        this.keep(buf, off, 2);
        return;
      }
      const b0 = buf[off] as number;
      const b1 = buf[off + 1] as number;
      const len7 = b1 & 0x7f;
      let header = 2;
      let length = len7;
      if (len7 === 126) {
        header = 4;
        if (avail < header) {
          this.keep(buf, off, header);
          return;
        }
        length = buf.readUInt16BE(off + 2);
      } else if (len7 === 127) {
        header = 10;
        if (avail < header) {
          this.keep(buf, off, header);
          return;
        }
        const high = buf.readUInt32BE(off + 2);
        // Beyond 2^53 a length is not even a safe integer; far beyond any maxPayload anyway.
        if (high > 0x1fffff) this.tooBig('message-bytes', 'frame length beyond 2^53');
        length = high * 0x1_0000_0000 + buf.readUInt32BE(off + 6);
      }
      this.check(b0, b1, length);
      if (avail < header + length) {
        this.keep(buf, off, header + length);
        return;
      }
      const next = off + header + length;
      if (b0 === 0x81) {
        // A whole text frame (FIN, no RSV, opcode 1): blank its header, add it to the run.
        if (this.runCount === 0) this.runFrom = off;
        for (let i = off; i < off + header; i++) buf[i] = 0x20;
        this.runStarts[this.runCount] = off + header;
        this.runEnds[this.runCount] = next;
        this.runCount++;
        this.runEnd = next;
      } else {
        this.flushRun(buf);
        this.frame(b0 & 0x0f, (b0 & 0x80) !== 0, buf, off + header, next);
      }
      off = next;
    }
  }

  /**
   * Copies the start of an incomplete frame into a buffer of the frame's size (its header's, while
   * the header is incomplete), so that a frame trickled in a byte a read holds one buffer, not one
   * view per read.
   */
  private keep(buf: Buffer, off: number, needed: number): void {
    this.rest = Buffer.allocUnsafe(needed);
    this.restBytes = buf.copy(this.rest, 0, off);
    this.needed = needed;
  }

  private check(b0: number, b1: number, length: number): void {
    if ((b0 & 0x70) !== 0) this.fail(1002, 'RSV bits set without a negotiated extension');
    if ((b1 & 0x80) !== 0) this.fail(1002, 'a masked frame from the server');
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if (opcode >= CLOSE) {
      if (opcode > PONG) this.fail(1002, `unknown opcode ${opcode}`);
      if (!fin) this.fail(1002, 'a fragmented control frame');
      if (length > 125) this.fail(1002, 'a control frame longer than 125 bytes');
      if (opcode === CLOSE && length === 1) this.fail(1002, 'a close frame of one byte');
      return;
    }
    if (opcode === CONTINUATION) {
      if (this.fragmentOpcode === 0) this.fail(1002, 'a continuation frame with no message in progress');
      if (this.fragmentCount >= this.maxFragments) {
        this.tooBig('fragments', `a message in more than ${this.maxFragments} frames`);
      }
    } else if (opcode === TEXT || opcode === BINARY) {
      if (this.fragmentOpcode !== 0) this.fail(1002, 'a new message before the last one ended');
    } else this.fail(1002, `unknown opcode ${opcode}`);
    if (this.fragmentBytes + length > this.maxPayload) {
      this.tooBig('message-bytes', `a message longer than ${this.maxPayload} bytes`);
    }
  }

  /** Every frame but a whole text frame, which `scan` gathers into the run. */
  private frame(opcode: number, fin: boolean, buf: Buffer, start: number, end: number): void {
    if (opcode === BINARY && fin) {
      this.handlers.binary(buf.subarray(start, end));
      return;
    }
    if (opcode === PING) {
      this.handlers.ping(buf.subarray(start, end));
      return;
    }
    if (opcode === PONG) {
      this.handlers.pong(buf.subarray(start, end));
      return;
    }
    if (opcode === CLOSE) {
      this.close(buf, start, end);
      return;
    }
    // A fragment: the first names the message's type, a continuation carries on.
    if (opcode !== CONTINUATION) this.fragmentOpcode = opcode;
    this.fragmentCount += 1;
    this.append(buf, start, end);
    if (!fin) return;
    const whole = this.assembly.subarray(0, this.fragmentBytes);
    const type = this.fragmentOpcode;
    this.assembly = EMPTY;
    this.fragmentBytes = 0;
    this.fragmentCount = 0;
    this.fragmentOpcode = 0;
    if (type === TEXT) this.text(whole, 0, whole.length);
    else this.handlers.binary(whole);
  }

  /**
   * Copies a fragment's payload after the ones before it (never a view of the socket's chunk,
   * which would keep the whole chunk alive), growing the buffer by doubling up to maxPayload.
   */
  private append(buf: Buffer, start: number, end: number): void {
    const total = this.fragmentBytes + (end - start);
    if (total > this.assembly.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxPayload, Math.max(total, 2 * this.assembly.length, 256)));
      this.assembly.copy(grown, 0, 0, this.fragmentBytes);
      this.assembly = grown;
    }
    buf.copy(this.assembly, this.fragmentBytes, start, end);
    this.fragmentBytes = total;
  }

  /**
   * Hands over the run of whole text frames. A run of ASCII bytes (its frames' headers blanked) is
   * valid UTF-8 and decodes to the same text as Latin-1: one check and one decode for the run,
   * then each frame is a substring, which V8 makes without copying. Otherwise frame by frame.
   */
  private flushRun(buf: Buffer): void {
    const n = this.runCount;
    if (n === 0) return;
    this.runCount = 0;
    const from = this.runFrom;
    const starts = this.runStarts;
    const ends = this.runEnds;
    if (isAscii(buf.subarray(from, this.runEnd))) {
      const all = buf.toString('latin1', from, this.runEnd);
      for (let i = 0; i < n; i++)
        this.handlers.text(all.substring((starts[i] as number) - from, (ends[i] as number) - from));
    } else {
      for (let i = 0; i < n; i++) this.text(buf, starts[i] as number, ends[i] as number);
    }
  }

  /**
   * Decoding replaces every invalid UTF-8 sequence with U+FFFD, so text without U+FFFD came from
   * valid UTF-8. For text that decoded to one-byte characters (all of a venue's JSON in
   * practice), V8 answers `includes('\uFFFD')` without reading the string. Only text that holds
   * U+FFFD is validated byte by byte, to tell a real U+FFFD from a broken sequence.
   */
  private text(buf: Buffer, start: number, end: number): void {
    const text = buf.toString('utf8', start, end);
    if (text.includes('\uFFFD') && !isUtf8(buf.subarray(start, end)))
      this.fail(1007, 'a text message that is not UTF-8');
    this.handlers.text(text);
  }

  private close(buf: Buffer, start: number, end: number): void {
    this.spent = true;
    if (end === start) {
      this.handlers.close(1005, '');
      return;
    }
    const code = buf.readUInt16BE(start);
    if (!isValidCloseCode(code)) this.fail(1002, `close code ${code} is not one a peer may send`);
    const reason = buf.subarray(start + 2, end);
    if (!isUtf8(reason)) this.fail(1007, 'a close reason that is not UTF-8');
    this.handlers.close(code, reason.toString('utf8'));
  }

  private fail(code: number, message: string): never {
    this.drop();
    throw new ProtocolError(code, message);
  }

  private tooBig(limit: MessageTooBigError['limit'], message: string): never {
    this.drop();
    throw new MessageTooBigError(limit, message);
  }

  /** Spent: nothing more is read, nothing held. */
  private drop(): void {
    this.spent = true;
    this.rest = EMPTY;
    this.restBytes = 0;
    this.assembly = EMPTY;
    this.fragmentBytes = 0;
  }
}
