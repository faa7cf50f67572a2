import type { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { kubeError, statusOf } from './kube-errors.js';
import { normalEvent } from './kube-event.js';

/**
 * The worker Deployment's replica count through its `scale` subresource (what
 * `kubectl scale` and the HorizontalPodAutoscaler use). A write carries the resourceVersion of
 * the read it answers: when someone changed the replica count in between, set() returns false
 * instead of overwriting them.
 */
export interface ReplicaCount {
  readonly replicas: number;
  readonly resourceVersion: string;
  /** The Deployment's uid (Events refer to it). */
  readonly uid: string;
}

export interface DeploymentScale {
  readonly name: string;
  read(): Promise<ReplicaCount>;
  /** Sets spec.replicas over what `seen` read; false when the replica count changed since. */
  set(seen: ReplicaCount, replicas: number): Promise<boolean>;
  /** Records a `Scaled` Event on the Deployment (what `kubectl describe deployment` lists). */
  recordScaled(seen: ReplicaCount, replicas: number, why: string): Promise<void>;
}

export function createDeploymentScale(deps: {
  readonly apps: Pick<AppsV1Api, 'readNamespacedDeploymentScale' | 'replaceNamespacedDeploymentScale'>;
  readonly core: Pick<CoreV1Api, 'createNamespacedEvent'>;
  readonly namespace: string;
  readonly name: string;
  readonly component: string;
  readonly instance: string;
  readonly now?: () => number;
}): DeploymentScale {
  const { namespace, name } = deps;
  const now = deps.now ?? Date.now;
  const read = async (): Promise<ReplicaCount> => {
    try {
      const scale = await deps.apps.readNamespacedDeploymentScale({ name, namespace });
      return {
        replicas: scale.spec?.replicas ?? 0,
        resourceVersion: scale.metadata?.resourceVersion ?? '',
        uid: scale.metadata?.uid ?? '',
      };
    } catch (err) {
      throw kubeError(`reading the scale of deployment ${name} failed`, err);
    }
  };
  return {
    name,
    read,
    async set(seen, replicas) {
      // A 409 also comes from the Deployment controller writing the status (every write bumps the
      // resourceVersion the scale carries): while the replica count is still what was read, write
      // again over the new version; once it differs, someone else decided, and they win.
      let current = seen;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await deps.apps.replaceNamespacedDeploymentScale({
            name,
            namespace,
            body: {
              apiVersion: 'autoscaling/v1',
              kind: 'Scale',
              metadata: { name, namespace, resourceVersion: current.resourceVersion },
              spec: { replicas },
            },
          });
          return true;
        } catch (err) {
          if (statusOf(err) !== 409) throw kubeError(`scaling deployment ${name} failed`, err);
        }
        current = await read();
        if (current.replicas !== seen.replicas) return false;
      }
      return false;
    },
    async recordScaled(seen, replicas, why) {
      const at = new Date(now());
      try {
        await deps.core.createNamespacedEvent({
          namespace,
          body: normalEvent({
            namespace,
            on: { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace, uid: seen.uid },
            reason: 'Scaled',
            action: 'Scale',
            message: `tickmesh operator: replicas ${seen.replicas} -> ${replicas} (${why})`,
            component: deps.component,
            instance: deps.instance,
            at,
          }),
        });
      } catch (err) {
        throw kubeError(`recording the Scaled event of ${name} failed`, err);
      }
    },
  };
}
