import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBus, type MemoryBus } from '../bus/memory-bus.js';
import { silentLogger } from '../observe/logger.js';
import { heartbeatSubject } from './heartbeat-message.js';
import { createHeartbeatLiveness, createHeartbeatMonitor } from './liveness.js';

const TIMEOUT = 1_500;

describe('heartbeat liveness', () => {
  let now = 1_000_000;
  const clock = () => now;
  let bus: MemoryBus;
  let stop: AbortController;
  beforeEach(() => {
    bus = createMemoryBus();
    stop = new AbortController();
  });
  afterEach(() => stop.abort());

  async function beat(member: string): Promise<void> {
    bus.publish(heartbeatSubject(member), new TextEncoder().encode(JSON.stringify({ member, time: now })));
    // Delivery to the subscription's iterator is asynchronous.
    await new Promise((r) => setTimeout(r, 5));
  }

  function setup() {
    const monitor = createHeartbeatMonitor({ bus, logger: silentLogger(), clock });
    monitor.start(stop.signal);
    const liveness = createHeartbeatLiveness(monitor, { timeoutMs: TIMEOUT, clock, logger: silentLogger() });
    return { monitor, liveness };
  }

  it('drops a candidate whose heartbeat stopped, and takes it back when it beats again', async () => {
    const { monitor, liveness } = setup();
    await beat('w-a');
    await beat('w-b');
    expect(liveness.alive(['w-a', 'w-b'])).toEqual(['w-a', 'w-b']);
    now += 1_000;
    await beat('w-a');
    now += 600;
    expect(monitor.silentForMs('w-b')).toBe(1_600);
    expect(liveness.alive(['w-a', 'w-b'])).toEqual(['w-a']);
    await beat('w-b');
    expect(liveness.alive(['w-a', 'w-b'])).toEqual(['w-a', 'w-b']);
  });

  it('gives a candidate never heard a grace of one timeout, then drops it', async () => {
    const { liveness } = setup();
    await beat('w-a');
    expect(liveness.alive(['w-a', 'w-new'])).toEqual(['w-a', 'w-new']);
    now += 1_000;
    await beat('w-a');
    expect(liveness.alive(['w-a', 'w-new'])).toEqual(['w-a', 'w-new']);
    now += 600;
    expect(liveness.alive(['w-a', 'w-new'])).toEqual(['w-a']);
  });

  it('is blind, so keeps every candidate, when none of them beats (bus down, or no heartbeats here)', async () => {
    const { liveness } = setup();
    // Beats of workers that are not candidates (another deployment on the same NATS) do not count.
    await beat('elsewhere');
    now += 5_000;
    await beat('elsewhere');
    expect(liveness.alive(['p-1', 'p-2'])).toEqual(['p-1', 'p-2']);
    await beat('p-1');
    now += 2_000;
    // The last one beating went silent: nobody left to hand its partitions to, Kubernetes decides.
    expect(liveness.alive(['p-1', 'p-2'])).toEqual(['p-1', 'p-2']);
  });

  it('calls back when a verdict changes, so that membership is recomputed without a pod event', async () => {
    const { liveness } = setup();
    let calls = 0;
    const unsubscribe = liveness.subscribe(() => {
      calls++;
      liveness.alive(['w-a', 'w-b']);
    });
    await beat('w-a');
    await beat('w-b');
    liveness.alive(['w-a', 'w-b']);
    await new Promise((r) => setTimeout(r, 250));
    expect(calls).toBe(0);
    now += 1_000;
    await beat('w-a');
    now += 1_000;
    await new Promise((r) => setTimeout(r, 250));
    expect(calls).toBe(1);
    unsubscribe();
    liveness.close();
  });
});
