import type { Worker as Thread } from 'node:worker_threads';

/**
 * The replies of a bench's helper thread (the worker bench's load, the ingest bench's venue),
 * taken by type in the order they came. The thread's own failure, or a reply of type `error`,
 * rejects the wait instead.
 */
export function threadReplies<R extends { readonly type: string }>(thread: Thread, name: string) {
  const replies: R[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  thread.on('message', (m: R) => {
    replies.push(m);
    wake?.();
  });
  thread.on('error', (err) => {
    failure ??= new Error(`${name} failed: ${String(err)}`, { cause: err });
    wake?.();
  });
  return async function next<T extends R['type']>(type: T): Promise<Extract<R, { type: T }>> {
    for (;;) {
      const i = replies.findIndex((r) => r.type === type || r.type === 'error');
      if (i >= 0) {
        const r = replies.splice(i, 1)[0] as R & { message?: string };
        if (r.type === 'error') throw new Error(`${name} failed: ${r.message}`);
        return r as Extract<R, { type: T }>;
      }
      if (failure) throw failure;
      await new Promise<void>((ok) => {
        wake = ok;
      });
    }
  };
}
