import { rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, freshName } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { queryPrometheus, type Sample } from '../harness/prometheus.js';

/** Polls `promql` until it returns exactly one sample with `value`; Prometheus scrapes every second. */
function waitForValue(promql: string, value: string, ms = 30_000): Promise<Sample> {
  const read = async () => {
    const last = await queryPrometheus(promql);
    if (last.length === 1 && last[0]?.value[1] === value) return last[0];
    throw new Error(`last result ${JSON.stringify(last)}`);
  };
  return eventually(`${promql} to become ${value}`, read, ms, 250);
}

describe('prometheus (real server from test/infra/prometheus.sh)', () => {
  const job = freshName('it-prom');
  const registry = new Registry();
  const gauge = new Gauge({ name: 'tickmesh_it_last_price', help: 'test gauge', registers: [registry] });
  const counter = new Counter({ name: 'tickmesh_it_trades_total', help: 'test counter', registers: [registry] });
  let server: Server;
  let sdFile: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    gauge.set(42.5);
    counter.inc(7);
    // Written under another name and renamed, so Prometheus never reads half a file.
    sdFile = join(endpoint('PROMETHEUS_SD_DIR'), `${job}.json`);
    await writeFile(`${sdFile}.tmp`, JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { job } }]));
    await rename(`${sdFile}.tmp`, sdFile);
  });

  afterAll(async () => {
    if (sdFile) await rm(sdFile, { force: true });
    await new Promise((resolve) => server?.close(resolve));
  });

  it('discovers the served target from a file_sd file and scrapes it', async () => {
    await waitForValue(`up{job="${job}"}`, '1');
    const sample = await waitForValue(`tickmesh_it_last_price{job="${job}"}`, '42.5');
    expect(sample.metric).toMatchObject({ __name__: 'tickmesh_it_last_price', job });
    await waitForValue(`tickmesh_it_trades_total{job="${job}"}`, '7');
  });

  it('follows the values the endpoint serves', async () => {
    gauge.set(43.25);
    counter.inc(3);
    await waitForValue(`tickmesh_it_last_price{job="${job}"}`, '43.25');
    await waitForValue(`tickmesh_it_trades_total{job="${job}"}`, '10');
  });
});
