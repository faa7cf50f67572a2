import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

/**
 * The lines of a text file (gzip-compressed when the name ends in `.gz`) in batches, without the
 * line terminator (`\n` or `\r\n`). Batching keeps the per-line cost of async iteration off
 * large files: one await per chunk, not per line.
 */
export async function* readLineBatches(path: string, signal?: AbortSignal): AsyncGenerator<string[]> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let input: Readable = file;
  if (path.endsWith('.gz')) {
    const gunzip = createGunzip();
    file.on('error', (err) => gunzip.destroy(err));
    input = file.pipe(gunzip);
  }
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of input) {
      signal?.throwIfAborted();
      const text = rest + decoder.write(chunk as Buffer);
      const lines: string[] = [];
      let start = 0;
      for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
        lines.push(text.slice(start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl));
        start = nl + 1;
      }
      rest = text.slice(start);
      if (lines.length > 0) yield lines;
    }
    rest += decoder.end();
    if (rest.length > 0) yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest];
  } finally {
    file.destroy();
    input.destroy();
  }
}
