import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, type Registry } from 'prom-client';

export interface ProbeServerDeps {
  readonly registry: Registry;
  /** Liveness: false only when the process is wedged and should be restarted. */
  readonly healthy: () => boolean;
  /** Readiness: a reason string when not ready (shown on /readyz), undefined when ready. */
  readonly notReadyReason: () => string | undefined;
}

export interface ProbeServer {
  readonly port: number;
  close(): Promise<void>;
}

/** `/healthz`, `/readyz` and `/metrics` on one small HTTP port, for every tickmesh process. */
export async function startProbeServer(deps: ProbeServerDeps, port: number, host = '0.0.0.0'): Promise<ProbeServer> {
  registerReadyGauge(deps);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      const ok = deps.healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'unhealthy\n');
      return;
    }
    if (path === '/readyz') {
      const reason = deps.notReadyReason();
      res
        .writeHead(reason === undefined ? 200 : 503, { 'content-type': 'text/plain' })
        .end(reason === undefined ? 'ready\n' : `not ready: ${reason}\n`);
      return;
    }
    if (path === '/metrics') {
      deps.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': deps.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * `tickmesh_ready`: 1 while /readyz would answer 200, else 0, read at scrape time, so an alert can
 * see a process that is up but not ready (a Service has taken it out; a dead one is `up == 0`).
 */
function registerReadyGauge(deps: ProbeServerDeps): void {
  if (deps.registry.getSingleMetric('tickmesh_ready')) return;
  new Gauge({
    name: 'tickmesh_ready',
    help: '1 while the process is ready (its /readyz answers 200), else 0.',
    registers: [deps.registry],
    collect() {
      this.set(deps.notReadyReason() === undefined ? 1 : 0);
    },
  });
}
