import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { endpoint } from './env.js';

const run = promisify(execFile);

/**
 * The harness's helm (test/infra) on the test kube-apiserver, with its cache, config and data
 * under `home()` instead of $HOME. `home` is read per call: a test creates the folder in a hook.
 */
export function helmIn(home: () => string): (...args: string[]) => Promise<string> {
  return async (...args) => {
    const { stdout } = await run(endpoint('HELM'), [...args, '--kubeconfig', endpoint('KUBECONFIG')], {
      env: {
        ...process.env,
        HELM_CACHE_HOME: join(home(), 'cache'),
        HELM_CONFIG_HOME: join(home(), 'config'),
        HELM_DATA_HOME: join(home(), 'data'),
      },
    }).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`helm ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}`);
    });
    return stdout;
  };
}
