import { describe, expect, it } from 'vitest';
import { createLogger } from '../observe/logger.js';
import { closeWithin } from './close-within.js';

function logged(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    pretty: false,
    destination: { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) },
  });
  return { logger, lines };
}

describe('closeWithin', () => {
  it('waits for a disconnect that completes, quietly', async () => {
    const { logger, lines } = logged();
    let done = false;
    await closeWithin(
      async () => {
        await new Promise((r) => setTimeout(r, 20));
        done = true;
      },
      logger,
      'kafka admin',
      1_000,
    );
    expect(done).toBe(true);
    expect(lines).toEqual([]);
  });

  it('goes on after the deadline when a disconnect never completes, and says which client', async () => {
    const { logger, lines } = logged();
    const started = performance.now();
    await closeWithin(() => new Promise<void>(() => {}), logger, 'kafka consumer', 50);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(lines).toMatchObject([
      { client: 'kafka consumer', timeoutMs: 50, msg: 'disconnect timed out; closing without it' },
    ]);
  });

  it('logs a failed disconnect instead of rejecting', async () => {
    const { logger, lines } = logged();
    await closeWithin(() => Promise.reject(new Error('broker gone')), logger, 'kafka producer', 1_000);
    expect(lines).toMatchObject([
      { client: 'kafka producer', msg: 'disconnect failed', err: { message: 'broker gone' } },
    ]);
  });
});
