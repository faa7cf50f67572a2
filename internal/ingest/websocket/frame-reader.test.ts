import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { ProtocolError } from '../../runtime/errors.js';
import { FrameReader, isValidCloseCode, MessageTooBigError } from './frame-reader.js';
import { encodeFrame } from './frame-writer.js';

/** What the reader handed over, in order. */
type Got =
  | { kind: 'text'; data: string }
  | { kind: 'binary' | 'ping' | 'pong'; hex: string }
  | { kind: 'close'; code: number; reason: string };

function recorder(maxPayload = 1 << 20, maxFragments?: number) {
  const got: Got[] = [];
  const reader = new FrameReader(
    {
      text: (data) => got.push({ kind: 'text', data }),
      binary: (data) => got.push({ kind: 'binary', hex: data.toString('hex') }),
      ping: (data) => got.push({ kind: 'ping', hex: data.toString('hex') }),
      pong: (data) => got.push({ kind: 'pong', hex: data.toString('hex') }),
      close: (code, reason) => got.push({ kind: 'close', code, reason }),
    },
    maxPayload,
    maxFragments,
  );
  return { got, reader };
}

/** ws's frame writer, which its published types leave out. */
const { Sender } = wsModule as unknown as {
  Sender: {
    frame(
      data: Buffer,
      options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean },
    ): Buffer[];
  };
};

const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** A server frame as `ws` (the reference implementation here) writes it: unmasked. */
function wsFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  return Buffer.concat(Sender.frame(payload, { fin, opcode, mask: false, readOnly: false, rsv1: false }));
}

/** A frame header written by hand, for frames `ws` refuses to write. */
function rawFrame(first: number, payload: Buffer, opts: { masked?: boolean; length?: bigint } = {}): Buffer {
  const len = opts.length ?? BigInt(payload.length);
  const maskBit = opts.masked ? 0x80 : 0;
  let header: Buffer;
  if (len < 126n) header = Buffer.from([first, maskBit | Number(len)]);
  else if (len < 0x10000n) {
    header = Buffer.from([first, maskBit | 126, 0, 0]);
    header.writeUInt16BE(Number(len), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(len, 2);
  }
  // A zero mask key leaves the payload as it is.
  return Buffer.concat([header, opts.masked ? Buffer.alloc(4) : Buffer.alloc(0), payload]);
}

/** `bytes` fed in chunks cut at `cuts` (positions, any order, duplicates allowed). */
function feed(reader: FrameReader, bytes: Buffer, cuts: number[] = []): void {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const c of [...at, bytes.length]) {
    reader.push(bytes.subarray(from, c));
    from = c;
  }
}

/** `[from, to)` in steps of `step`. */
function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i += step) out.push(i);
  return out;
}

function feedBytewise(reader: FrameReader, bytes: Buffer): void {
  for (let i = 0; i < bytes.length; i++) reader.push(bytes.subarray(i, i + 1));
}

interface Message {
  readonly binary: boolean;
  readonly payload: Buffer;
  /** Fragment boundaries inside the payload; empty for one frame. */
  readonly splits: number[];
  /** Control frames sent between fragments (after fragment i). */
  readonly controls: Array<{ after: number; ping: boolean; payload: Buffer }>;
}

const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom('', '\uFFFD', 'a\uFFFDb', '{"e":"trade","p":"9662.61"}', 'é'.repeat(70_000), 'x'.repeat(126)),
);
const message: fc.Arbitrary<Message> = fc
  .record({
    binary: fc.boolean(),
    text: anyText,
    bytes: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(new Uint8Array(65_536).fill(7))),
    splits: fc.array(fc.nat(), { maxLength: 4 }),
    controls: fc.array(fc.record({ after: fc.nat(), ping: fc.boolean(), payload: fc.uint8Array({ maxLength: 125 }) }), {
      maxLength: 3,
    }),
  })
  .map(({ binary, text, bytes, splits, controls }) => {
    const payload = binary ? Buffer.from(bytes) : Buffer.from(text, 'utf8');
    const cut = [...new Set(splits.map((s) => s % (payload.length + 1)))].sort((a, b) => a - b);
    return {
      binary,
      payload,
      splits: cut,
      controls: controls.map((c) => ({
        after: c.after % (cut.length + 1),
        ping: c.ping,
        payload: Buffer.from(c.payload),
      })),
    };
  });

/** The messages as a server writes them (fragments and interleaved controls), and what a reader must hand over. */
function stream(messages: Message[]): { bytes: Buffer; want: Got[] } {
  const frames: Buffer[] = [];
  const want: Got[] = [];
  for (const m of messages) {
    const bounds = [0, ...m.splits, m.payload.length];
    const pieces = bounds.slice(1).map((end, i) => m.payload.subarray(bounds[i], end));
    pieces.forEach((piece, i) => {
      const opcode = i === 0 ? (m.binary ? OP.binary : OP.text) : OP.continuation;
      frames.push(wsFrame(opcode, piece, i === pieces.length - 1));
      for (const c of m.controls.filter((x) => x.after === i && i < pieces.length - 1)) {
        frames.push(wsFrame(c.ping ? OP.ping : OP.pong, c.payload));
        want.push({ kind: c.ping ? 'ping' : 'pong', hex: c.payload.toString('hex') });
      }
    });
    want.push(
      m.binary
        ? { kind: 'binary', hex: m.payload.toString('hex') }
        : { kind: 'text', data: m.payload.toString('utf8') },
    );
  }
  return { bytes: Buffer.concat(frames), want };
}

function protocolError(run: () => void): ProtocolError {
  try {
    run();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('no ProtocolError thrown');
}

describe('FrameReader', () => {
  it('hands over what ws wrote, message for message, however the bytes are cut into reads', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 40 }), (messages, cuts) => {
        const { bytes, want } = stream(messages);
        const { got, reader } = recorder();
        feed(reader, bytes, cuts);
        expect(got).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('takes its chunks over: the headers of the text frames it read are blanked, the rest untouched', () => {
    const chunk = Buffer.concat([
      wsFrame(OP.text, Buffer.from('{"a":1}')),
      wsFrame(OP.text, Buffer.from('x'.repeat(200))),
      Buffer.from([0x81]),
    ]);
    const before = Buffer.from(chunk);
    const { got, reader } = recorder();
    reader.push(chunk);
    expect(got).toEqual([
      { kind: 'text', data: '{"a":1}' },
      { kind: 'text', data: 'x'.repeat(200) },
    ]);
    // One ASCII range from the first header to the last payload byte; the unread tail stays as it was.
    expect(chunk.subarray(0, chunk.length - 1).toString('latin1')).toBe(`  {"a":1}    ${'x'.repeat(200)}`);
    expect(chunk[chunk.length - 1]).toBe(before[before.length - 1]);
  });

  it('reads a stream fed one byte at a time', () => {
    const messages: Message[] = [
      { binary: false, payload: Buffer.from('{"p":"1.5"}'), splits: [], controls: [] },
      { binary: false, payload: Buffer.from('ü€𝄞'.repeat(50)), splits: [1, 7, 100], controls: [] },
      { binary: true, payload: Buffer.alloc(70_000, 3), splits: [65_536], controls: [] },
      {
        binary: false,
        payload: Buffer.from('x'.repeat(300)),
        splits: [150],
        controls: [{ after: 0, ping: true, payload: Buffer.from('hi') }],
      },
    ];
    const { bytes, want } = stream(messages);
    const { got, reader } = recorder();
    feedBytewise(reader, bytes);
    expect(got).toEqual(want);
  });

  it('hands over the close frame with its code and reason, and ignores what follows it', () => {
    const close = Buffer.concat([Buffer.from([0x0f, 0xa1]), Buffer.from('gone for good')]);
    const { got, reader } = recorder();
    feed(
      reader,
      Buffer.concat([wsFrame(OP.text, Buffer.from('a')), wsFrame(OP.close, close), wsFrame(OP.text, Buffer.from('b'))]),
    );
    expect(got).toEqual([
      { kind: 'text', data: 'a' },
      { kind: 'close', code: 4001, reason: 'gone for good' },
    ]);
  });

  it('reads a close frame without a code as 1005', () => {
    const { got, reader } = recorder();
    feed(reader, wsFrame(OP.close, Buffer.alloc(0)));
    expect(got).toEqual([{ kind: 'close', code: 1005, reason: '' }]);
  });

  it('keeps a real U+FFFD and refuses every broken UTF-8 sequence with 1007', () => {
    const { got, reader } = recorder();
    feed(reader, wsFrame(OP.text, Buffer.from('price \uFFFD')));
    expect(got).toEqual([{ kind: 'text', data: 'price \uFFFD' }]);
    for (const bad of [[0xff], [0xc3], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]) {
      const payload = Buffer.concat([Buffer.from('{"s":"BTC'), Buffer.from(bad), Buffer.from('"}')]);
      for (const push of [feed, feedBytewise]) {
        const r = recorder();
        expect(protocolError(() => push(r.reader, wsFrame(OP.text, payload))).closeCode, `${bad}`).toBe(1007);
        expect(r.got).toEqual([]);
      }
      // Split over two fragments, the sequence is checked over the whole message.
      const r = recorder();
      const cut = 10;
      const frames = Buffer.concat([
        wsFrame(OP.text, payload.subarray(0, cut), false),
        wsFrame(OP.continuation, payload.subarray(cut)),
      ]);
      expect(protocolError(() => feed(r.reader, frames)).closeCode).toBe(1007);
    }
  });

  it('refuses frames that break RFC 6455 with the code it gives them', () => {
    const text = (s: string) => Buffer.from(s);
    const cases: Array<[string, Buffer, number]> = [
      ['RSV1 without an extension', rawFrame(0xc1, text('x')), 1002],
      ['RSV3', rawFrame(0x91, text('x')), 1002],
      ['a masked server frame', rawFrame(0x81, text('x'), { masked: true }), 1002],
      ['opcode 3', rawFrame(0x83, text('x')), 1002],
      ['opcode 11', rawFrame(0x8b, text('x')), 1002],
      ['a fragmented ping', rawFrame(0x09, text('x')), 1002],
      ['a ping of 126 bytes', rawFrame(0x89, Buffer.alloc(126)), 1002],
      ['a close of one byte', rawFrame(0x88, Buffer.from([3])), 1002],
      ['close code 1005', rawFrame(0x88, Buffer.from([0x03, 0xed])), 1002],
      ['close code 999', rawFrame(0x88, Buffer.from([0x03, 0xe7])), 1002],
      ['close code 2000', rawFrame(0x88, Buffer.from([0x07, 0xd0])), 1002],
      ['a close reason not UTF-8', rawFrame(0x88, Buffer.from([0x03, 0xe8, 0xff])), 1007],
      ['a continuation with nothing to continue', rawFrame(0x80, text('x')), 1002],
      [
        'a new message inside a fragmented one',
        Buffer.concat([rawFrame(0x01, text('a')), rawFrame(0x81, text('b'))]),
        1002,
      ],
      ['a message over maxPayload', rawFrame(0x82, Buffer.alloc(1025)), 1009],
      [
        'fragments over maxPayload together',
        Buffer.concat([rawFrame(0x02, Buffer.alloc(600)), rawFrame(0x80, Buffer.alloc(600))]),
        1009,
      ],
      ['a length beyond 2^53, before its payload', rawFrame(0x82, Buffer.alloc(0), { length: 2n ** 60n }), 1009],
    ];
    for (const [name, bytes, code] of cases) {
      for (const push of [feed, feedBytewise]) {
        const r = recorder(1024);
        expect(protocolError(() => push(r.reader, bytes)).closeCode, name).toBe(code);
        // Spent: what comes next is ignored, not read as a new frame.
        r.reader.push(wsFrame(OP.text, text('after')));
        expect(r.got, name).toEqual([]);
      }
    }
  });

  it('refuses an oversized frame from its header, without waiting for its payload', () => {
    const r = recorder(1024);
    const header = rawFrame(0x82, Buffer.alloc(0), { length: 1_000_000n });
    expect(protocolError(() => r.reader.push(header)).closeCode).toBe(1009);
  });

  it('reads the unmasked frames encodeFrame writes for local venues: the bytes ws writes', () => {
    for (const n of [0, 125, 126, 65_535, 65_536]) {
      const payload = Buffer.alloc(n, 0x61);
      expect(encodeFrame(OP.text, payload, null).equals(wsFrame(OP.text, payload)), `${n}`).toBe(true);
    }
  });

  it('accepts the close codes a peer may send', () => {
    expect([1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999].every(isValidCloseCode)).toBe(true);
    expect([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000].some(isValidCloseCode)).toBe(false);
  });
  it('refuses a flood of empty continuation frames with 1009 once a message spans maxFragments frames', () => {
    // 6.25 MiB of empty continuations after a one-byte first fragment, in 64 KiB reads: without a
    // bound on fragments each one was kept, and this took hundreds of megabytes of heap.
    const flood = Buffer.alloc(6.25 * 1024 * 1024);
    for (let i = 0; i < flood.length; i += 2) flood[i] = 0x00; // FIN 0, opcode 0, length 0
    const first = rawFrame(0x01, Buffer.from('x'));
    const { got, reader } = recorder(1 << 20, 1024);
    const err = protocolError(() => feed(reader, Buffer.concat([first, flood]), range(0, flood.length, 65_536)));
    expect(err).toBeInstanceOf(MessageTooBigError);
    expect([err.closeCode, (err as MessageTooBigError).limit]).toEqual([1009, 'fragments']);
    expect(reader.bufferedBytes).toBe(0);
    expect(got).toEqual([]);
  });

  it('takes a message of exactly maxFragments frames, empty ones included', () => {
    const frames = [
      rawFrame(0x01, Buffer.from('a')),
      ...Array.from({ length: 6 }, () => rawFrame(0x00, Buffer.alloc(0))),
    ];
    frames.push(rawFrame(0x80, Buffer.from('b')));
    const { got, reader } = recorder(1024, 8);
    feed(reader, Buffer.concat(frames));
    expect(got).toEqual([{ kind: 'text', data: 'ab' }]);
    const r = recorder(1024, 7);
    expect(protocolError(() => feed(r.reader, Buffer.concat(frames))).closeCode).toBe(1009);
  });

  it('holds copies of the fragments, not the socket chunks they arrived in', () => {
    const { got, reader } = recorder(1 << 20);
    reader.push(Buffer.concat([rawFrame(0x02, Buffer.from([1])), Buffer.alloc(60_000)]).subarray(0, 3));
    for (let i = 0; i < 100; i++) {
      // A 64 KiB read that holds one byte of the message and the start of nothing else.
      const chunk = Buffer.alloc(65_536);
      rawFrame(0x00, Buffer.from([2])).copy(chunk);
      reader.push(chunk.subarray(0, 3));
    }
    expect(reader.bufferedBytes).toBeLessThanOrEqual(512);
    reader.push(rawFrame(0x80, Buffer.from([3])));
    expect(got).toEqual([{ kind: 'binary', hex: `01${'02'.repeat(100)}03` }]);
  });

  it('holds one buffer for a frame trickled in a byte a read', () => {
    const { got, reader } = recorder(1 << 20);
    const frame = wsFrame(OP.text, Buffer.from('y'.repeat(100_000)));
    feedBytewise(reader, frame.subarray(0, 50_000));
    expect(reader.bufferedBytes).toBe(frame.length);
    reader.push(frame.subarray(50_000));
    expect(got).toEqual([{ kind: 'text', data: 'y'.repeat(100_000) }]);
  });

  it('fuzz: any bytes, cut anywhere, end in messages or a protocol close, never more held than the limits allow', () => {
    const maxPayload = 4096;
    const maxFragments = 8;
    // Raw bytes, and frame headers of every opcode and length class followed by some payload, so
    // that the reader goes deep (fragments, floods of continuations, long lengths) and not only
    // into the first header's error.
    const header = fc
      .record({
        fin: fc.boolean(),
        rsv: fc.constantFrom(0, 0, 0, 0x10),
        opcode: fc.constantFrom(0, 0, 0, 1, 2, 8, 9, 10, 3),
        masked: fc.constantFrom(false, false, false, true),
        length: fc.oneof(fc.nat(130), fc.nat(70_000), fc.constantFrom(0, 125, 126, 65_535, 65_536, 2 ** 32)),
        payload: fc.uint8Array({ maxLength: 200 }),
      })
      .map(({ fin, rsv, opcode, masked, length, payload }) =>
        Buffer.concat([
          rawFrame((fin ? 0x80 : 0) | rsv | opcode, Buffer.alloc(0), { masked, length: BigInt(length) }),
          Buffer.from(payload),
        ]),
      );
    const piece = fc.oneof(
      header,
      header,
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 30 }), (pieces, cuts) => {
        const bytes = Buffer.concat(pieces);
        const out: Array<string | Buffer> = [];
        const reader = new FrameReader(
          {
            text: (d) => out.push(d),
            binary: (d) => out.push(Buffer.from(d)),
            ping: () => {},
            pong: () => {},
            close: () => {},
          },
          maxPayload,
          maxFragments,
        );
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        let from = 0;
        for (const c of [...at, bytes.length]) {
          try {
            reader.push(Buffer.from(bytes.subarray(from, c)));
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
            expect([1002, 1007, 1009]).toContain((err as ProtocolError).closeCode);
            expect(reader.bufferedBytes).toBe(0);
            break;
          }
          from = c;
          // An incomplete frame (header + at most maxPayload) and the fragments before it.
          expect(reader.bufferedBytes).toBeLessThanOrEqual(2 * maxPayload + 14);
        }
        for (const m of out)
          expect(typeof m === 'string' ? Buffer.byteLength(m) : m.length).toBeLessThanOrEqual(maxPayload);
      }),
      { numRuns: 500 },
    );
  });
});
