import { describe, expect, it, vi } from 'vitest';
import { createNatsBus } from '../../internal/bus/nats-bus.js';
import { UnavailableError } from '../../internal/runtime/errors.js';
import { defineBusContract } from '../contracts/bus-contract.js';
import { endpoint, freshName } from '../harness/env.js';

defineBusContract(
  'nats',
  async () => {
    const bus = await createNatsBus({ servers: endpoint('NATS_URL'), name: 'bus-contract' });
    return { bus, fresh: (prefix) => freshName(prefix), close: () => bus.close() };
  },
  { arriveMs: 10_000, quietMs: 300 },
);

describe('NATS bus', () => {
  it('a server that cannot be reached surfaces as a retriable UnavailableError', async () => {
    await expect(createNatsBus({ servers: 'nats://127.0.0.1:1' })).rejects.toBeInstanceOf(UnavailableError);
  });

  it('a KV watch on one connection sees what another connection writes', async () => {
    const a = await createNatsBus({ servers: endpoint('NATS_URL') });
    const b = await createNatsBus({ servers: endpoint('NATS_URL') });
    try {
      const name = freshName('kvx');
      const writer = await a.kv(name);
      const reader = await b.kv(name);
      await writer.put('placement.w1', new TextEncoder().encode('[0]'));
      const controller = new AbortController();
      const guard = setTimeout(() => controller.abort(), 15_000);
      const seen: string[] = [];
      const loop = (async () => {
        for await (const e of reader.watch({ signal: controller.signal })) {
          seen.push(`${e.operation}:${e.key}:${new TextDecoder().decode(e.value)}`);
          if (seen.length === 3) controller.abort();
        }
      })();
      // The watch has started once it delivered the current value; then change things.
      await vi.waitUntil(() => seen.length > 0 || controller.signal.aborted, { timeout: 15_000, interval: 10 });
      await writer.put('placement.w2', new TextEncoder().encode('[1]'));
      await writer.delete('placement.w1');
      await loop;
      clearTimeout(guard);
      expect(seen).toEqual(['put:placement.w1:[0]', 'put:placement.w2:[1]', 'delete:placement.w1:']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
