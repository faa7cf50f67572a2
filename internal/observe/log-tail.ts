/**
 * A log destination for a process that draws a full-screen view on its terminal: lines go to
 * `out` as usual, except while the view holds the screen (hold() to release()), when they are
 * only kept (the newest `size` of them) for the view to show, since a redraw would wipe them.
 * Every line is kept either way, so the view's first frame shows what was logged before it.
 */
export class LogTail {
  private readonly lines: string[] = [];
  private held = false;

  constructor(
    private readonly size: number,
    private readonly out: NodeJS.WritableStream,
  ) {}

  write(chunk: string): boolean {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      this.lines.push(line);
      if (this.lines.length > this.size) this.lines.shift();
    }
    return this.held ? true : this.out.write(chunk);
  }

  /** The newest lines, oldest first. */
  recent(): readonly string[] {
    return this.lines;
  }

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
  }
}
