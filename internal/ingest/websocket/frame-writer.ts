import { randomFillSync } from 'node:crypto';

export const OPCODE = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/**
 * One whole frame (FIN set). A client's frames are masked, as RFC 6455 requires, with a fresh
 * random key by default; `mask: null` writes a server's unmasked frame (the bench's and tests'
 * local venues). Clients send little (subscriptions, pongs, a close), so this is plain rather
 * than fast.
 */
export function encodeFrame(
  opcode: number,
  payload: Buffer,
  mask: Buffer | null = randomFillSync(Buffer.alloc(4)),
): Buffer {
  const len = payload.length;
  const header = len < 126 ? 2 : len < 0x1_0000 ? 4 : 10;
  const body = header + (mask ? 4 : 0);
  const out = Buffer.allocUnsafe(body + len);
  const maskBit = mask ? 0x80 : 0;
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = maskBit | len;
  else if (len < 0x1_0000) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeUInt32BE(Math.floor(len / 0x1_0000_0000), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  if (!mask) {
    payload.copy(out, body);
    return out;
  }
  mask.copy(out, header, 0, 4);
  for (let i = 0; i < len; i++) out[body + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return out;
}

/**
 * A close frame's payload: the code, then the reason in UTF-8, cut to the 123 bytes a control
 * frame has room for, at a character boundary (a cut sequence would be invalid UTF-8: 1007).
 */
export function closePayload(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8');
  let n = Math.min(123, text.length);
  while (n < text.length && n > 0 && ((text[n] as number) & 0xc0) === 0x80) n--;
  const out = Buffer.allocUnsafe(2 + n);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2, 0, n);
  return out;
}
