import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/logger.js';
import { FencedError } from '../runtime/errors.js';
import { createOperatorMetrics } from './metrics.js';
import type { PlacementDocument } from './placement-document.js';
import { createMemoryPlacementStore, type PlacementMirror } from './publication.js';
import { createReconciler, type ReconcilerDeps } from './reconciler.js';

function collectingMirror(): PlacementMirror & {
  docs: PlacementDocument[];
  next(version: number): Promise<PlacementDocument>;
} {
  const docs: PlacementDocument[] = [];
  const waiters: { version: number; resolve: (d: PlacementDocument) => void }[] = [];
  return {
    docs,
    async publish(doc) {
      docs.push(doc);
      for (const w of [...waiters]) {
        if (doc.version >= w.version) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(doc);
        }
      }
    },
    next(version) {
      const found = docs.find((d) => d.version >= version);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ version, resolve }));
    },
  };
}

function setup(overrides: Partial<ReconcilerDeps> = {}) {
  const registry = new Registry();
  const metrics = createOperatorMetrics(registry);
  const store = createMemoryPlacementStore();
  const mirror = collectingMirror();
  let members: string[] = ['a', 'b'];
  const reconciler = createReconciler({
    store,
    mirrors: [mirror],
    members: () => members,
    partitionCount: 6,
    options: { tolerance: 0.2, maxMovesPerRound: 100 },
    identity: 'op-1',
    logger: silentLogger(),
    metrics,
    debounceMs: 5,
    roundIntervalMs: 10,
    retryMs: 10,
    loadMoveCooldownMs: 0,
    ...overrides,
  });
  return {
    registry,
    store,
    mirror,
    reconciler,
    setMembers(next: string[]) {
      members = next;
      reconciler.notify('membership');
    },
  };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => name === m.name || name.startsWith(`${m.name}_`));
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string>; metricName?: string }[];
  return values
    .filter((v) => (v.metricName ?? name) === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Metrics are updated just after the mirror is written: a test polls them for a moment. */
const METRIC = { timeout: 2_000, interval: 5 };

describe('reconciler', () => {
  it('publishes the first placement, then rebalances a join onto the new member only', async () => {
    const t = setup();
    const ac = new AbortController();
    const running = t.reconciler.run(ac.signal);
    const first = await t.mirror.next(1);
    expect(first.members).toEqual(['a', 'b']);
    expect(first.partitions.filter((p) => p.owner === 'a')).toHaveLength(3);

    t.setMembers(['a', 'b', 'c']);
    const second = await t.mirror.next(2);
    const moved = second.partitions.filter((p) => p.owner !== first.partitions[p.partition]!.owner);
    expect(moved).toHaveLength(2);
    expect(moved.every((p) => p.owner === 'c' && p.epoch > first.epoch)).toBe(true);
    expect(await t.store.read()).toEqual(second);
    await expect
      .poll(() => metricValue(t.registry, 'tickmesh_operator_partitions_moved_total', { reason: 'balance' }), METRIC)
      .toBe(2);
    await expect.poll(() => metricValue(t.registry, 'tickmesh_operator_members'), METRIC).toBe(3);
    // The leader's first round and the join were both answered by a publication.
    await expect
      .poll(() => metricValue(t.registry, 'tickmesh_operator_placement_publish_seconds_count'), METRIC)
      .toBe(2);
    ac.abort();
    await running;
  });

  it('runs rate-limited rounds until the placement settles', async () => {
    const t = setup({ options: { tolerance: 0.2, maxMovesPerRound: 1 } });
    const ac = new AbortController();
    const running = t.reconciler.run(ac.signal);
    await t.mirror.next(1);
    t.setMembers(['a', 'b', 'c', 'd', 'e', 'f']);
    // 6 partitions on a, b (3 each) to 6 members: 4 moves, one per round.
    const settled = await t.mirror.next(5);
    const counts = new Map<string, number>();
    for (const p of settled.partitions) counts.set(p.owner!, (counts.get(p.owner!) ?? 0) + 1);
    expect([...counts.values()]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(t.mirror.docs.map((d) => d.version)).toEqual([1, 2, 3, 4, 5]);
    await expect
      .poll(() => metricValue(t.registry, 'tickmesh_operator_placement_settle_seconds_count'), METRIC)
      .toBe(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(t.mirror.docs).toHaveLength(5);
    ac.abort();
    await running;
  });

  it('rebalances on measured load, and a load check that changes nothing publishes nothing', async () => {
    let load: Map<number, number> | undefined;
    const t = setup({ load: () => load });
    const ac = new AbortController();
    const running = t.reconciler.run(ac.signal);
    const first = await t.mirror.next(1);
    const ofA = first.partitions.filter((p) => p.owner === 'a').map((p) => p.partition);
    const ofB = first.partitions.filter((p) => p.owner === 'b').map((p) => p.partition);
    // a carries 210 trades/s, b 30: one exchange (a heavy partition for a light one) evens it.
    load = new Map([
      [ofA[0]!, 90],
      [ofA[1]!, 90],
      [ofA[2]!, 30],
      [ofB[0]!, 10],
      [ofB[1]!, 10],
      [ofB[2]!, 10],
    ]);
    // The leader's first round settled (its metrics land just after the mirror is written).
    await expect
      .poll(() => metricValue(t.registry, 'tickmesh_operator_placement_settle_seconds_count'), METRIC)
      .toBe(1);
    const settleBefore = 1;
    t.reconciler.notify('load');
    const second = await t.mirror.next(2);
    const loadOf = (m: string) =>
      second.partitions.filter((p) => p.owner === m).reduce((sum, p) => sum + (load?.get(p.partition) ?? 0), 0);
    expect([loadOf('a'), loadOf('b')].sort()).toEqual([110, 130]);
    expect(second.partitions.filter((p) => p.owner === 'a')).toHaveLength(3);
    await expect
      .poll(() => metricValue(t.registry, 'tickmesh_operator_partitions_moved_total', { reason: 'load' }), METRIC)
      .toBe(2);
    await expect
      .poll(() => metricValue(t.registry, 'tickmesh_operator_rebalances_total', { trigger: 'load' }), METRIC)
      .toBe(1);
    await expect
      .poll(() => metricValue(t.registry, 'tickmesh_operator_placement_settle_seconds_count'), METRIC)
      .toBe(settleBefore + 1);

    // Within the tolerance now: further checks move nothing and record no settle time.
    t.reconciler.notify('load');
    t.reconciler.notify('load');
    await new Promise((r) => setTimeout(r, 60));
    expect(t.mirror.docs.map((d) => d.version)).toEqual([1, 2]);
    expect(await metricValue(t.registry, 'tickmesh_operator_placement_settle_seconds_count')).toBe(settleBefore + 1);
    ac.abort();
    await running;
  });

  it('moves no partition for load within the cooldown after it moved', async () => {
    let clock = 1_000_000;
    let load: Map<number, number> | undefined;
    const t = setup({ load: () => load, loadMoveCooldownMs: 60_000, now: () => clock });
    const ac = new AbortController();
    const running = t.reconciler.run(ac.signal);
    // The first placement moves every partition (orphans): all are pinned for a minute.
    const first = await t.mirror.next(1);
    const ofA = first.partitions.filter((p) => p.owner === 'a').map((p) => p.partition);
    load = new Map(first.partitions.map((p) => [p.partition, ofA.includes(p.partition) ? 90 : 10]));
    clock += 59_000;
    t.reconciler.notify('load');
    await new Promise((r) => setTimeout(r, 60));
    expect(t.mirror.docs.map((d) => d.version)).toEqual([1]);
    // Past the cooldown the same check exchanges a heavy partition for a light one.
    clock += 2_000;
    t.reconciler.notify('load');
    const second = await t.mirror.next(2);
    const moved = second.partitions.filter((p) => p.epoch !== first.partitions[p.partition]!.epoch);
    expect(moved).toHaveLength(2);
    // And those two are pinned in turn. b now carries 140 against a's 40, because of the partition
    // it just took (100); every exchange that would lower b gives that one away or takes the one
    // a just took (0). Unpinned, the next check would move one of them again.
    load = new Map(second.partitions.map((p) => [p.partition, 20]));
    for (const p of moved) load.set(p.partition, p.owner === 'b' ? 100 : 0);
    clock += 1_000;
    t.reconciler.notify('load');
    await new Promise((r) => setTimeout(r, 60));
    expect(t.mirror.docs.map((d) => d.version)).toEqual([1, 2]);
    ac.abort();
    await running;
  });

  it('a successor continues versions and epochs from the stored placement', async () => {
    const t = setup();
    const ac = new AbortController();
    const running = t.reconciler.run(ac.signal);
    const first = await t.mirror.next(1);
    ac.abort();
    await running;

    const mirror = collectingMirror();
    const successor = createReconciler({
      store: t.store.handle(),
      mirrors: [mirror],
      members: () => ['b', 'c'],
      partitionCount: 6,
      options: { tolerance: 0.2, maxMovesPerRound: 100 },
      identity: 'op-2',
      logger: silentLogger(),
      metrics: createOperatorMetrics(new Registry()),
      debounceMs: 5,
    });
    const ac2 = new AbortController();
    const running2 = successor.run(ac2.signal);
    const next = await mirror.next(2);
    expect(next.publishedBy).toBe('op-2');
    // a is gone: its three partitions move to c with epochs above every earlier one; b's stay.
    for (const p of next.partitions) {
      const was = first.partitions[p.partition]!;
      if (was.owner === 'b') expect(p).toEqual(was);
      else expect(p).toMatchObject({ owner: 'c', previousOwner: 'a' });
      if (was.owner === 'a') expect(p.epoch).toBeGreaterThan(first.epoch);
    }
    ac2.abort();
    await running2;
  });

  it('gives up with FencedError when another operator wrote the placement', async () => {
    const t = setup();
    const ac = new AbortController();
    const running = t.reconciler.run(ac.signal);
    const first = await t.mirror.next(1);
    const intruder = t.store.handle();
    await intruder.read();
    await intruder.write({ ...first, version: first.version + 1, publishedBy: 'op-2' });
    t.setMembers(['a']);
    await expect(running).rejects.toBeInstanceOf(FencedError);
  });
});
