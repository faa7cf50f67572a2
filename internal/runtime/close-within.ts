import type { Logger } from '../observe/logger.js';

/** How long a client's disconnect may take before its owner's close goes on without it. */
export const DISCONNECT_TIMEOUT_MS = 10_000;

/**
 * A client's disconnect, waited for at most `timeoutMs`. A Kafka consumer's disconnect waits for
 * its LeaveGroup and any client's for its requests in flight, each up to the request timeout: a
 * broker that does not answer must not hold its owner's close (and the process) that long. Never
 * rejects: a failed or late disconnect is logged with `client`, and the close goes on.
 */
export async function closeWithin(
  close: () => Promise<void>,
  logger: Logger,
  client: string,
  timeoutMs = DISCONNECT_TIMEOUT_MS,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([close().then(() => 'done' as const), late]);
    if (outcome === 'late') logger.warn({ client, timeoutMs }, 'disconnect timed out; closing without it');
  } catch (err) {
    logger.warn({ err, client }, 'disconnect failed');
  } finally {
    clearTimeout(timer);
  }
}
