/** Wakes every waiter once; waiters re-check their condition. */
export class WakeSignal {
  private waiters: Array<() => void> = [];
  wait(abort: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (abort.aborted) return resolve();
      const done = (): void => {
        abort.removeEventListener('abort', done);
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      this.waiters.push(done);
      abort.addEventListener('abort', done, { once: true });
    });
  }
  fire(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}
