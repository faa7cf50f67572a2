import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import { FencedError } from '../runtime/errors.js';
import { kubeError, statusOf } from './kube-errors.js';
import { normalEvent } from './kube-event.js';
import type { Move } from './placement.js';
import { encodeDocument, type PlacementDocument, parseDocument } from './placement-document.js';

/**
 * Where the placement is published.
 *
 * - The ConfigMap (`tickmesh-placement`, key `placement.json`) is the operator's own record: a new
 *   leader reads it to continue versions and epochs, and kubectl shows it. Writes carry the
 *   resourceVersion last read or written, so an operator that lost the Lease but has not noticed yet
 *   cannot overwrite its successor's placement: the API server answers 409 and write() throws FencedError.
 * - Mirrors (the NATS KV bucket the workers watch) get the document after the ConfigMap accepted it.
 * - One Kubernetes Event per rebalance, on the ConfigMap.
 */
export interface PlacementStore {
  /** The last published document, or null when none exists yet. Remembers the version it read. */
  read(): Promise<PlacementDocument | null>;
  /** Writes over exactly what read() or the previous write() saw; FencedError when someone else wrote. */
  write(doc: PlacementDocument): Promise<void>;
}

/** A copy of the placement for the workers (NATS KV through the Bus contract). */
export interface PlacementMirror {
  publish(doc: PlacementDocument): Promise<void>;
}

export type ConfigMapApi = Pick<
  CoreV1Api,
  'readNamespacedConfigMap' | 'createNamespacedConfigMap' | 'replaceNamespacedConfigMap' | 'createNamespacedEvent'
>;

export const PLACEMENT_CONFIGMAP = 'tickmesh-placement';
export const PLACEMENT_KEY = 'placement.json';

const LABELS = { 'app.kubernetes.io/name': 'tickmesh', 'app.kubernetes.io/component': 'operator' };

export function createConfigMapStore(deps: {
  readonly api: ConfigMapApi;
  readonly namespace: string;
  readonly name?: string;
}): PlacementStore & { reference(): Promise<ObjectRef> } {
  const { api, namespace } = deps;
  const name = deps.name ?? PLACEMENT_CONFIGMAP;
  // null: read found nothing (create next); undefined: never read.
  let resourceVersion: string | null | undefined;
  let uid: string | undefined;

  function body(doc: PlacementDocument): V1ConfigMap {
    return {
      metadata: {
        name,
        namespace,
        labels: LABELS,
        annotations: {
          'tickmesh.io/placement-version': String(doc.version),
          'tickmesh.io/placement-epoch': String(doc.epoch),
          'tickmesh.io/published-by': doc.publishedBy,
        },
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      data: { [PLACEMENT_KEY]: encodeDocument(doc), 'owners.txt': ownersText(doc) },
    };
  }

  return {
    async read(): Promise<PlacementDocument | null> {
      try {
        const cm = await api.readNamespacedConfigMap({ name, namespace });
        resourceVersion = cm.metadata?.resourceVersion ?? null;
        uid = cm.metadata?.uid;
        const text = cm.data?.[PLACEMENT_KEY];
        return text === undefined ? null : parseDocument(text);
      } catch (err) {
        if (statusOf(err) === 404) {
          resourceVersion = null;
          return null;
        }
        throw kubeError('reading the placement ConfigMap failed', err);
      }
    },
    async write(doc: PlacementDocument): Promise<void> {
      if (resourceVersion === undefined) throw new Error('placement store: write() before read()');
      try {
        const cm =
          resourceVersion === null
            ? await api.createNamespacedConfigMap({ namespace, body: body(doc) })
            : await api.replaceNamespacedConfigMap({ name, namespace, body: body(doc) });
        resourceVersion = cm.metadata?.resourceVersion ?? null;
        uid = cm.metadata?.uid;
      } catch (err) {
        if (statusOf(err) === 409) {
          resourceVersion = undefined;
          throw new FencedError('placement ConfigMap was changed by someone else', { cause: err });
        }
        throw kubeError('writing the placement ConfigMap failed', err);
      }
    },
    async reference(): Promise<ObjectRef> {
      return { kind: 'ConfigMap', apiVersion: 'v1', name, namespace, ...(uid ? { uid } : {}) };
    },
  };
}

export interface ObjectRef {
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
}

export interface RebalanceEvent {
  readonly doc: PlacementDocument;
  readonly moves: readonly Move[];
  /** Why this round ran (e.g. "membership", "load", "leader"). */
  readonly trigger: string;
}

/** Records a core/v1 Event (what `kubectl get events` and `kubectl describe` show). */
export function createEventRecorder(deps: {
  readonly api: ConfigMapApi;
  readonly namespace: string;
  readonly component: string;
  readonly instance: string;
  readonly now?: () => number;
}): { rebalanced(on: ObjectRef, event: RebalanceEvent): Promise<void> } {
  const now = deps.now ?? Date.now;
  return {
    async rebalanced(on, { doc, moves, trigger }): Promise<void> {
      const by = { orphan: 0, balance: 0, load: 0 };
      for (const m of moves) by[m.reason] += 1;
      const at = new Date(now());
      const message =
        `placement v${doc.version} (epoch ${doc.epoch}) on ${doc.members.length} members: moved ${moves.length} ` +
        `of ${doc.partitionCount} partitions (orphan ${by.orphan}, balance ${by.balance}, load ${by.load}); trigger ${trigger}`;
      try {
        await deps.api.createNamespacedEvent({
          namespace: deps.namespace,
          body: normalEvent({
            namespace: deps.namespace,
            on,
            reason: 'Rebalanced',
            action: 'Place',
            message,
            component: deps.component,
            instance: deps.instance,
            at,
            labels: LABELS,
          }),
        });
      } catch (err) {
        throw kubeError('recording the rebalance Event failed', err);
      }
    },
  };
}

/** `0 worker-a e12 (from worker-b)` per partition: what `kubectl get cm -o yaml` shows at a glance. */
function ownersText(doc: PlacementDocument): string {
  return doc.partitions
    .map((p) => `${p.partition} ${p.owner ?? '-'} e${p.epoch}${p.previousOwner ? ` (from ${p.previousOwner})` : ''}`)
    .join('\n')
    .concat('\n');
}

/**
 * The placement store of the embedded mode (`tickmesh dev`: no Kubernetes). Same contract: a write
 * over a document someone else wrote since this handle's last read or write is fenced.
 */
export function createMemoryPlacementStore(): PlacementStore & { handle(): PlacementStore } {
  let stored: { doc: PlacementDocument; revision: number } | null = null;
  const handle = (): PlacementStore => {
    let seen: number | undefined;
    return {
      async read() {
        seen = stored?.revision ?? 0;
        return stored ? structuredClone(stored.doc) : null;
      },
      async write(doc) {
        if (seen === undefined) throw new Error('placement store: write() before read()');
        if ((stored?.revision ?? 0) !== seen) {
          seen = undefined;
          throw new FencedError('placement was changed by someone else');
        }
        stored = { doc: structuredClone(doc), revision: seen + 1 };
        seen = stored.revision;
      },
    };
  };
  const first = handle();
  return { ...first, handle };
}
