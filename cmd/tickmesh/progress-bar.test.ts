import { describe, expect, it } from 'vitest';
import { progressBar } from './progress-bar.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 80, write: (s: string) => out.push(s) > 0 } };
}

describe('progressBar', () => {
  it('draws in place on a terminal and ends the line', () => {
    const { out, stream } = sink(true);
    const bar = progressBar(stream, 'rows');
    bar.update(50, 100);
    bar.update(100, 100);
    bar.done();
    expect(out[0]).toMatch(/^\r\[#+\.+\] 50\/100 rows 50%$/);
    expect(out.at(-2)).toMatch(/^\r\[#+\] 100\/100 rows 100%$/);
    expect(out.at(-1)).toBe('\n');
  });

  it('writes nothing when the stream is not a terminal', () => {
    const { out, stream } = sink(false);
    const bar = progressBar(stream, 'rows');
    bar.update(1, 2);
    bar.update(2, 2);
    bar.done();
    expect(out).toEqual([]);
  });
});
