/**
 * Keys by the watermark at which each is next due, for sweeps that visit only what is due: a
 * binary min-heap with lazy removal (an entry whose key was rescheduled or removed is dropped
 * when it reaches the top). A key holds one due time, the earliest it was given since it was
 * last taken: being woken early is allowed by its users, being woken late is not.
 */
export class DeadlineQueue {
  private heap: Array<{ readonly due: number; readonly key: string }> = [];
  private readonly dueOf = new Map<string, number>();

  /** Keys waiting. */
  get size(): number {
    return this.dueOf.size;
  }

  /** `key` is due at `at` or earlier (the earlier of its current due time and `at`); +Infinity: not scheduled. */
  schedule(key: string, at: number): void {
    if (!(at < Number.POSITIVE_INFINITY)) return;
    const current = this.dueOf.get(key);
    if (current !== undefined && current <= at) return;
    this.dueOf.set(key, at);
    this.push({ due: at, key });
    // Superseded entries stay until they surface; rebuild when they outnumber the live ones.
    if (this.heap.length > 2 * this.dueOf.size + 1024) this.rebuild();
  }

  delete(key: string): void {
    this.dueOf.delete(key);
  }

  /** Takes every key due at or before `at` into `into`, earliest first; they are no longer scheduled. */
  takeDue(at: number, into: string[]): void {
    const heap = this.heap;
    while (heap.length > 0 && (heap[0] as { due: number }).due <= at) {
      const top = this.pop();
      if (this.dueOf.get(top.key) !== top.due) continue;
      this.dueOf.delete(top.key);
      into.push(top.key);
    }
  }

  private push(entry: { readonly due: number; readonly key: string }): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as typeof entry;
      if (p.due <= entry.due) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): { readonly due: number; readonly key: string } {
    const heap = this.heap;
    const top = heap[0] as { due: number; key: string };
    const last = heap.pop() as { due: number; key: string };
    if (heap.length === 0) return top;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (heap[r] as typeof last).due < (heap[l] as typeof last).due ? r : l;
      const child = heap[c] as typeof last;
      if (last.due <= child.due) break;
      heap[i] = child;
      i = c;
    }
    heap[i] = last;
    return top;
  }

  private rebuild(): void {
    const entries = [...this.dueOf].map(([key, due]) => ({ due, key }));
    this.heap = [];
    for (const e of entries) this.push(e);
  }
}
