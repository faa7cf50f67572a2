import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, freshName } from '../harness/env.js';
import { helmIn } from '../harness/helm.js';

const CHART = fileURLToPath(new URL('./fixtures/hello-chart', import.meta.url));

describe('helm against the test control plane', () => {
  const namespace = freshName('helm');
  const release = freshName('hello');
  const kc = new KubeConfig();
  let core: CoreV1Api;
  let home: string;

  const helm = helmIn(() => home);

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'tickmesh-helm-'));
    kc.loadFromFile(endpoint('KUBECONFIG'));
    core = kc.makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    await core?.deleteNamespace({ name: namespace }).catch((err: { code?: number }) => {
      if (err.code !== 404) throw err;
    });
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('installs a chart, renders its values into the cluster, and uninstalls it', async () => {
    const greeting = freshName('greeting');
    await helm(
      'install',
      release,
      CHART,
      '--namespace',
      namespace,
      '--create-namespace',
      '--set',
      `greeting=${greeting}`,
    );

    const cm = await core.readNamespacedConfigMap({ name: `${release}-greeting`, namespace });
    expect(cm.data).toEqual({ greeting, release });
    expect(cm.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');

    const listed = JSON.parse(await helm('list', '--namespace', namespace, '--output', 'json')) as {
      name: string;
      status: string;
    }[];
    expect(listed.map((r) => [r.name, r.status])).toEqual([[release, 'deployed']]);

    await helm('uninstall', release, '--namespace', namespace);
    await expect(core.readNamespacedConfigMap({ name: `${release}-greeting`, namespace })).rejects.toMatchObject({
      code: 404,
    });
    expect(JSON.parse(await helm('list', '--namespace', namespace, '--output', 'json'))).toEqual([]);
  });
});
