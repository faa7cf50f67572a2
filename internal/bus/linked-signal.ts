/**
 * A signal that aborts when any of `signals` does, and unlink() that takes its listeners off
 * them again. Unlike AbortSignal.any, nothing stays attached to a long-lived signal (the bus's
 * closing signal, a connection's) once the short-lived user has called unlink().
 */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  unlink(): void;
}

export function linkSignals(signals: ReadonlyArray<AbortSignal | undefined>): LinkedSignal {
  const controller = new AbortController();
  const sources = signals.filter((s) => s !== undefined);
  const abort = (): void => {
    unlink();
    controller.abort();
  };
  const unlink = (): void => {
    for (const s of sources) s.removeEventListener('abort', abort);
  };
  if (sources.some((s) => s.aborted)) controller.abort();
  else for (const s of sources) s.addEventListener('abort', abort, { once: true });
  return { signal: controller.signal, unlink };
}
