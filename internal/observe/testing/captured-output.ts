import { Writable } from 'node:stream';

/** A writable that keeps everything written to it as text; `isTTY` makes it pass for a terminal. */
export class CapturedOutput extends Writable {
  text = '';

  constructor(readonly isTTY: boolean) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}
