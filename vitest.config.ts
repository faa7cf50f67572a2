import { defineConfig } from 'vitest/config';

// Four layers (docs/TESTING.md): `unit` is pure and in-process and needs no server;
// `integration` talks to the real servers that test/infra/up.sh starts on loopback; `e2e` runs
// whole deployments on them; `cluster` installs the chart on a real node.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['internal/**/*.test.ts', 'cmd/**/*.test.ts'],
          environment: 'node',
          // The layers run one after the other: unit, integration, e2e. (vitest moves a project with
          // the default order 0 and one worker to a group of its own after all the others.)
          sequence: { groupOrder: 0 },
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 1 },
          globalSetup: ['test/harness/global-setup.ts'],
          setupFiles: ['test/harness/kafkajs-timers.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          // The servers are shared; tests isolate by name (fresh topic, subject, schema,
          // namespace), not by process, and 2 cores do not profit from more parallelism.
          fileParallelism: false,
        },
      },
      {
        test: {
          // Whole deployments (docs/TESTING.md): many processes on the same real servers, so after
          // the other layers, one file at a time.
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/harness/global-setup.ts'],
          setupFiles: ['test/harness/kafkajs-timers.ts'],
          testTimeout: 420_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          // The chart on a real node (test/infra/node.sh: kubelet, containerd, kube-proxy, CoreDNS)
          // with the project's image: last, alone, as root.
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/cluster/global-setup.ts'],
          setupFiles: ['test/harness/kafkajs-timers.ts'],
          testTimeout: 900_000,
          hookTimeout: 1_200_000,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
