import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InputError } from '../../runtime/errors.js';

/**
 * Raw WebSocket captures as cryptofeed records them (shared/data/binance-ws-captures beside the repository): the first
 * line is `<url> <-> <subscribe time in s>`, every further line `<receive time in s>: <frame>`.
 */
export interface CaptureHeader {
  readonly url: string;
  /** Epoch ms at which the capture subscribed. */
  readonly subscribedAt: number;
}

export interface CapturedFrame {
  /** Epoch ms at which the recorder received the frame. */
  readonly receiveTime: number;
  readonly data: string;
  /** 1-based line number in the file. */
  readonly line: number;
}

export interface CaptureFile {
  readonly header: CaptureHeader;
  /** Frames in file order; lines that do not parse are yielded with `data` as the whole line and NaN time. */
  frames(signal?: AbortSignal): AsyncIterable<CapturedFrame>;
}

export function parseHeader(line: string): CaptureHeader {
  const m = /^(\S+)\s+<->\s+(\d+(?:\.\d+)?)\s*$/.exec(line);
  if (!m) throw new InputError('malformed-frame', 'capture file does not start with `<url> <-> <time>`');
  return { url: m[1] as string, subscribedAt: Math.round(Number(m[2]) * 1000) };
}

/** Splits `<seconds>: <frame>`; undefined when the line does not have that shape. */
export function parseFrameLine(line: string, lineNo: number): CapturedFrame | undefined {
  const colon = line.indexOf(': ');
  if (colon <= 0) return undefined;
  const seconds = Number(line.slice(0, colon));
  if (!Number.isFinite(seconds)) return undefined;
  return { receiveTime: Math.round(seconds * 1000), data: line.slice(colon + 2), line: lineNo };
}

export async function openCapture(path: string): Promise<CaptureFile> {
  const header = await firstLine(path);
  return {
    header: parseHeader(header),
    async *frames(signal?: AbortSignal) {
      const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
      let n = 0;
      try {
        for await (const line of rl) {
          signal?.throwIfAborted();
          n += 1;
          if (n === 1 || line.length === 0) continue;
          yield parseFrameLine(line, n) ?? { receiveTime: Number.NaN, data: line, line: n };
        }
      } finally {
        rl.close();
      }
    },
  };
}

async function firstLine(path: string): Promise<string> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of rl) return line;
  } finally {
    rl.close();
  }
  throw new InputError('malformed-frame', 'capture file is empty');
}
