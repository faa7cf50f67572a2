import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { parseExports, runInfra } from '../harness/global-setup.js';

const run = promisify(execFile);

/**
 * The cluster layer's servers: those of the other layers (test/infra/up.sh), the real node
 * (test/infra/node.sh start: containerd, kubelet, kube-proxy, CoreDNS) and the project's image
 * (test/infra/image.sh build, unless TICKMESH_IMAGE and TICKMESH_IMAGE_ARCHIVE name one already),
 * imported into the node's containerd. Anything missing fails the run with its log.
 */
export default async function setup(project: TestProject): Promise<void> {
  const env = parseExports(await runInfra('test/infra/up.sh'));
  await runInfra('test/infra/node.sh', ['start']);
  Object.assign(env, parseExports(await runInfra('test/infra/node.sh', ['env'])));
  const { TICKMESH_IMAGE, TICKMESH_IMAGE_ARCHIVE } = process.env;
  Object.assign(
    env,
    TICKMESH_IMAGE && TICKMESH_IMAGE_ARCHIVE
      ? { TICKMESH_IMAGE, TICKMESH_IMAGE_ARCHIVE }
      : parseExports(await runInfra('test/infra/image.sh', ['build'])),
  );
  if (!env.TICKMESH_IMAGE || !env.TICKMESH_IMAGE_ARCHIVE) throw new Error('test/infra/image.sh build named no image');
  await importImage(env, env.TICKMESH_IMAGE, env.TICKMESH_IMAGE_ARCHIVE);
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  project.provide('infraEnv', env);
}

/** Imports the OCI archive into the node's containerd, unless the image there is that archive's already. */
async function importImage(env: Record<string, string>, name: string, archive: string): Promise<void> {
  const ctr = (...args: string[]) =>
    run(env.TICKMESH_NODE_CTR!, ['--address', env.TICKMESH_NODE_CONTAINERD!, '-n', 'k8s.io', ...args], {
      maxBuffer: 16 * 1024 * 1024,
    });
  // buildah writes the layout's files as ./index.json, the node's own archives as index.json.
  const index = JSON.parse((await run('tar', ['-xOf', archive, '--wildcards', '*index.json'])).stdout) as {
    manifests: { digest: string }[];
  };
  const digest = index.manifests[0]?.digest ?? '';
  const { stdout } = await ctr('images', 'ls');
  const present = stdout.split('\n').some((line) => {
    const [ref, , manifest] = line.trim().split(/\s+/);
    return ref === name && manifest === digest;
  });
  if (!present) await ctr('images', 'import', archive);
}
