import type { CoreV1Event, V1ObjectReference } from '@kubernetes/client-node';

/**
 * A Normal core/v1 Event about `on` (what `kubectl get events` and `kubectl describe` list),
 * reported by `component`/`instance`; the message is cut to the API's 1,024 characters.
 */
export function normalEvent(e: {
  readonly namespace: string;
  readonly on: V1ObjectReference & { readonly name: string };
  readonly reason: string;
  readonly action: string;
  readonly message: string;
  readonly component: string;
  readonly instance: string;
  readonly at: Date;
  readonly labels?: Record<string, string>;
}): CoreV1Event {
  return {
    metadata: {
      generateName: `${e.on.name}.`,
      namespace: e.namespace,
      ...(e.labels ? { labels: e.labels } : {}),
    },
    involvedObject: { ...e.on },
    reason: e.reason,
    message: e.message.slice(0, 1024),
    type: 'Normal',
    action: e.action,
    source: { component: e.component },
    reportingComponent: e.component,
    reportingInstance: e.instance,
    firstTimestamp: e.at,
    lastTimestamp: e.at,
    count: 1,
  };
}
