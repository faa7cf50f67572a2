import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, freshName } from '../harness/env.js';

/** Takes `n` items from an async iterator, failing after `ms` instead of hanging the run. */
async function take<T>(it: AsyncIterable<T>, n: number, ms = 10_000): Promise<T[]> {
  const out: T[] = [];
  const collect = (async () => {
    for await (const item of it) {
      out.push(item);
      if (out.length === n) break;
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`got ${out.length} of ${n} items within ${ms}ms`)), ms);
  });
  try {
    await Promise.race([collect, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

describe('nats (real nats-server with JetStream from test/infra/nats.sh)', () => {
  let nc: NatsConnection;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    nc = await connect({ servers: endpoint('NATS_URL'), name: 'tickmesh-integration' });
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await nc?.drain();
  });

  it('delivers published messages to a subscriber of a fresh subject, in order', async () => {
    const subject = freshName('it.nats');
    const sub = nc.subscribe(`${subject}.>`, { max: 3 });
    nc.publish(`${subject}.a`, 'one');
    nc.publish(`${subject}.b`, 'two');
    nc.publish(`${subject}.a`, 'three');
    const msgs = await take(sub, 3);
    expect(msgs.map((m) => [m.subject, m.string()])).toEqual([
      [`${subject}.a`, 'one'],
      [`${subject}.b`, 'two'],
      [`${subject}.a`, 'three'],
    ]);
  });

  it('answers a request through a responder', async () => {
    const subject = freshName('it.nats.req');
    const sub = nc.subscribe(subject, {
      callback: (_err, msg) => {
        msg.respond(`echo:${msg.string()}`);
      },
    });
    cleanups.push(async () => sub.unsubscribe());
    const reply = await nc.request(subject, 'ping', { timeout: 5_000 });
    expect(reply.string()).toBe('echo:ping');
  });

  it('puts, gets and watches a KV bucket', async () => {
    const bucket = freshName('it-kv');
    const kv: KV = await new Kvm(nc).create(bucket, { history: 5 });
    cleanups.push(() => kv.destroy());

    const rev1 = await kv.put('placement.p0', JSON.stringify({ worker: 'a', epoch: 1 }));
    const entry = await kv.get('placement.p0');
    expect(entry?.revision).toBe(rev1);
    expect(entry?.json()).toEqual({ worker: 'a', epoch: 1 });
    expect(await kv.get('placement.missing')).toBeNull();

    // A watcher first replays the last value of each key, then streams updates and deletes.
    const watch = await kv.watch({ key: 'placement.>' });
    cleanups.push(async () => watch.stop());
    const seen = take<KvWatchEntry>(watch, 3);
    const rev2 = await kv.put('placement.p1', JSON.stringify({ worker: 'b', epoch: 1 }));
    await kv.delete('placement.p0');
    const entries = await seen;
    expect(entries.map((e) => [e.key, e.operation, e.operation === 'PUT' ? e.json() : null])).toEqual([
      ['placement.p0', 'PUT', { worker: 'a', epoch: 1 }],
      ['placement.p1', 'PUT', { worker: 'b', epoch: 1 }],
      ['placement.p0', 'DEL', null],
    ]);
    expect(entries[1]?.revision).toBe(rev2);
  });

  it('drops a JetStream publish whose msgID the stream has already seen', async () => {
    const stream = freshName('it-stream');
    const subject = freshName('it.js');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${subject}.>`], duplicate_window: nanos(60_000) });
    cleanups.push(() => jsm.streams.delete(stream));
    const js = jetstream(nc);

    const first = await js.publish(`${subject}.candle`, 'c1', { msgID: 'BTC-USDT:1m:0' });
    const again = await js.publish(`${subject}.candle`, 'c1 again', { msgID: 'BTC-USDT:1m:0' });
    const second = await js.publish(`${subject}.candle`, 'c2', { msgID: 'BTC-USDT:1m:60000' });
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, seq: first.seq });
    expect(second).toMatchObject({ duplicate: false, seq: first.seq + 1 });

    const info = await jsm.streams.info(stream);
    expect(info.state.messages).toBe(2);
    const consumer = await js.consumers.get(stream);
    const batch = await consumer.fetch({ max_messages: 2, expires: 5_000 });
    const bodies = (await take(batch, 2)).map((m) => m.string());
    expect(bodies).toEqual(['c1', 'c2']);
  });
});
