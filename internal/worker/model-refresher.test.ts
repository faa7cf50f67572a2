import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ModelRefresh } from '../sink/postgres-models.js';
import { createModelRefresher } from './model-refresher.js';

const VIEWS: ModelRefresh[] = [{ view: 'market_daily', concurrently: true, ms: 3 }];

async function value(registry: Registry, name: string, result?: string): Promise<number | undefined> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.find((v) => result === undefined || v.labels.result === result)?.value;
}

describe('the model refresher', () => {
  it('counts each round by result and keeps the time and length of the last success', async () => {
    const registry = new Registry();
    let now = 1_000_000;
    const results: (ModelRefresh[] | undefined | Error)[] = [VIEWS, undefined, new Error('connection refused')];
    const refresher = createModelRefresher({
      refresh: async () => {
        const r = results.shift();
        now += 250;
        if (r instanceof Error) throw r;
        return r;
      },
      everyMs: 60_000,
      clock: () => now,
      logger: pino({ level: 'silent' }),
      registry,
    });
    const signal = new AbortController().signal;
    expect(await value(registry, 'tickmesh_models_refresh_rounds_total', 'refreshed')).toBe(0);
    expect(await refresher.refreshOnce(signal)).toBe('refreshed');
    expect(await refresher.refreshOnce(signal)).toBe('skipped');
    expect(await refresher.refreshOnce(signal)).toBe('failed');
    for (const result of ['refreshed', 'skipped', 'failed']) {
      expect(await value(registry, 'tickmesh_models_refresh_rounds_total', result)).toBe(1);
    }
    expect(await value(registry, 'tickmesh_models_refresh_last_success_timestamp_seconds')).toBe(1_000_250 / 1000);
    expect(await value(registry, 'tickmesh_models_refresh_duration_seconds')).toBe(0.25);
  });

  it('goes on after a failed round, and stops with its signal during a refresh', async () => {
    let calls = 0;
    const run = new AbortController();
    const refresher = createModelRefresher({
      refresh: (signal) => {
        calls += 1;
        if (calls === 1) return Promise.reject(new Error('statement timeout'));
        if (calls === 2) return Promise.resolve(VIEWS);
        // The third round hangs until aborted, as a refresh does until its connection ends.
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      everyMs: 1,
      clock: Date.now,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
    });
    refresher.start(run.signal);
    while (calls < 3) await new Promise((r) => setTimeout(r, 1));
    run.abort();
    await refresher.close();
    expect(calls).toBe(3);
  });
});
