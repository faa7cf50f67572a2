/** Where a progress bar draws: a terminal (isTTY) or not, then nothing is drawn. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

/**
 * A one-line progress bar redrawn in place on a terminal, at most every 100 ms and at the end;
 * nothing at all when the stream is not a terminal (piped, in CI), so logs stay clean. `done`
 * ends the line.
 */
export function progressBar(
  stream: ProgressStream,
  unit: string,
): { update(done: number, total: number): void; done(): void } {
  let last = 0;
  let drawn = false;
  const draw = (done: number, total: number): void => {
    const ratio = total > 0 ? Math.min(done / total, 1) : 1;
    const label = ` ${done.toLocaleString('en')}/${total.toLocaleString('en')} ${unit} ${Math.floor(ratio * 100)}%`;
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - 3));
    const filled = Math.round(ratio * width);
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${label}`);
    drawn = true;
  };
  return {
    update(done, total) {
      if (!stream.isTTY) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done, total);
    },
    done() {
      if (drawn) stream.write('\n');
    },
  };
}
