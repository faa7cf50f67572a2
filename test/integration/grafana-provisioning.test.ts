import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmIn } from '../harness/helm.js';

// The chart ships the Grafana provisioning of the market and operations dashboards: the
// dashboards (grafanaDashboards) and their data sources (grafanaDatasources), as ConfigMaps for
// Grafana's sidecars, each the repository's own file unchanged. Rendered by the real helm.

const CHART = fileURLToPath(new URL('../../deploy/helm/tickmesh', import.meta.url));
const GRAFANA = fileURLToPath(new URL('../../dashboards/grafana', import.meta.url));
let home: string;
const helm = helmIn(() => home);

describe('the chart provisions Grafana', () => {
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'tickmesh-grafana-chart-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('renders the data sources and every dashboard for the sidecars when enabled, and none by default', async () => {
    const base = ['template', 'tickmesh', CHART, '--set', 'singleNode.enabled=true'];
    const on = loadAllYaml(
      await helm(...base, '--set', 'grafanaDatasources.enabled=true', '--set', 'grafanaDashboards.enabled=true'),
    ) as V1ConfigMap[];
    const configMaps = on.filter((o) => o?.kind === 'ConfigMap');
    const datasources = configMaps.filter((c) => c.metadata?.labels?.grafana_datasource === '1');
    expect(datasources).toHaveLength(1);
    expect(datasources[0]?.data).toEqual({
      'tickmesh-datasources.yaml': readFileSync(
        join(GRAFANA, 'provisioning/datasources/tickmesh.yaml'),
        'utf8',
      ).trimEnd(),
    });
    const dashboards = configMaps.filter((c) => c.metadata?.labels?.grafana_dashboard === '1');
    expect(dashboards.flatMap((c) => Object.keys(c.data ?? {})).sort()).toEqual([
      'tickmesh-market.json',
      'tickmesh-operations.json',
    ]);
    const market = dashboards.find((c) => c.data?.['tickmesh-market.json'])?.data?.['tickmesh-market.json'] ?? '{}';
    expect(JSON.parse(market)).toEqual(JSON.parse(readFileSync(join(GRAFANA, 'tickmesh-market.json'), 'utf8')));

    const off = loadAllYaml(await helm(...base)) as V1ConfigMap[];
    expect(
      off.filter((o) => o?.metadata?.labels?.grafana_datasource || o?.metadata?.labels?.grafana_dashboard),
    ).toEqual([]);
  });
});
