import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

/**
 * A text file (gzip-compressed when the name ends in `.gz`) as blocks of whole lines: every
 * block but the last ends with `\n`, and no line spans two blocks. Parsers read fields in place
 * from the block (eachLine), so no string is made per line. At most one block and one read
 * chunk are held at a time, whatever the file's size.
 */
/**
 * Bytes decoded into one block: 1 MiB reads (few system calls) are cut into blocks below V8's
 * large-object size, so the block strings die in the young generation instead of piling up in
 * large-object space until a full collection.
 */
const BLOCK = 1 << 16;

/** The file's bytes in 1 MiB chunks, inflated when the name ends in `.gz`. */
function open(path: string): { file: Readable; input: Readable } {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let input: Readable = file;
  if (path.endsWith('.gz')) {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    file.on('error', (err) => gunzip.destroy(err));
    input = file.pipe(gunzip);
  }
  return { file, input };
}

export async function* readLineBlocks(path: string, signal?: AbortSignal): AsyncGenerator<string> {
  const { file, input } = open(path);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of input) {
      signal?.throwIfAborted();
      const bytes = chunk as Buffer;
      for (let at = 0; at < bytes.length; at += BLOCK) {
        const text = rest + decoder.write(bytes.subarray(at, at + BLOCK));
        const last = text.lastIndexOf('\n');
        if (last < 0) {
          rest = text;
          continue;
        }
        rest = text.slice(last + 1);
        yield last + 1 === text.length ? text : text.slice(0, last + 1);
      }
    }
    rest += decoder.end();
    if (rest.length > 0) yield rest;
  } finally {
    file.destroy();
    input.destroy();
  }
}

/**
 * readLineBlocks as bytes, undecoded: every block but the last ends with `\n` (a line's bytes
 * never span two blocks), at most one read chunk and one partial line held at a time. For
 * parsers that read fields from the bytes (TardisParser.scan).
 */
export async function* readLineBuffers(path: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const { file, input } = open(path);
  let rest: Buffer | undefined;
  try {
    for await (const chunk of input) {
      signal?.throwIfAborted();
      let bytes = chunk as Buffer;
      if (rest !== undefined) {
        // Only the line that spans the two chunks is copied, not the chunk.
        const first = bytes.indexOf(10);
        if (first < 0) {
          rest = Buffer.concat([rest, bytes]);
          continue;
        }
        yield Buffer.concat([rest, bytes.subarray(0, first + 1)]);
        rest = undefined;
        bytes = bytes.subarray(first + 1);
      }
      const last = bytes.lastIndexOf(10);
      if (last < 0) {
        rest = bytes.length > 0 ? bytes : undefined;
        continue;
      }
      rest = last + 1 < bytes.length ? bytes.subarray(last + 1) : undefined;
      yield bytes.subarray(0, last + 1);
    }
    if (rest !== undefined) yield rest;
  } finally {
    file.destroy();
    input.destroy();
  }
}

/**
 * Calls `line(start, end)` for each line of a block from readLineBlocks, `end` before the line
 * terminator (`\n` or `\r\n`).
 */
export function eachLine(text: string, line: (start: number, end: number) => void): void {
  let start = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    line(start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
    start = nl + 1;
  }
}
