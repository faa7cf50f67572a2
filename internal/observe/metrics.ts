import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A fresh registry per process (never prom-client's global one), so that tests and the
 * embedded mode can run several components side by side without name clashes.
 */
export function createRegistry(defaultLabels: Record<string, string> = {}, processMetrics = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'tickmesh_' });
  return registry;
}
