import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProbeServer, startProbeServer } from './http-server.js';
import { createRegistry } from './metrics.js';

let server: ProbeServer | undefined;
afterEach(async () => {
  await server?.close();
});

describe('probe server', () => {
  it('serves metrics from its own registry and reports readiness with a reason', async () => {
    const registry = createRegistry({ role: 'test' }, false);
    const c = new Counter({ name: 'tickmesh_probe_test_total', help: 'test', registers: [registry] });
    c.inc(3);
    let reason: string | undefined = 'kafka unavailable';
    server = await startProbeServer({ registry, healthy: () => true, notReadyReason: () => reason }, 0, '127.0.0.1');
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('kafka unavailable');
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('tickmesh_ready{role="test"} 0');
    reason = undefined;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('tickmesh_probe_test_total{role="test"} 3');
    expect(metrics).toContain('tickmesh_ready{role="test"} 1');
  });
});
