import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, BusMessage, KvEntry, StoredMessage, Subscription } from '../../internal/bus/bus.js';
import { UnavailableError } from '../../internal/runtime/errors.js';
import { collectGarbage } from '../harness/gc.js';

/**
 * The one test suite every Bus adapter passes (the in-process bus in the unit project, NATS in
 * the integration project). Every test works under its own fresh subject prefix, stream and
 * bucket names, so runs never see each other's messages.
 */
export interface BusSubject {
  readonly bus: Bus;
  /** A name no other test uses, valid as a subject token, stream and bucket name. */
  fresh(prefix: string): string;
  close(): Promise<void>;
}

export interface BusContractOptions {
  readonly arriveMs: number;
  readonly quietMs: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Collects what an async iterable yields until stopped. */
function collect<T>(it: AsyncIterable<T>): { items: T[]; done: Promise<void> } {
  const items: T[] = [];
  const done = (async () => {
    for await (const x of it) items.push(x);
  })();
  return { items, done };
}

const text = (m: BusMessage): string => dec.decode(m.data);

export function defineBusContract(name: string, make: () => Promise<BusSubject>, opts: BusContractOptions): void {
  describe(`Bus contract: ${name}`, () => {
    let s: BusSubject;
    beforeAll(async () => {
      s = await make();
    });
    afterAll(async () => {
      await s?.close();
    });

    const quiet = (): Promise<void> => new Promise((r) => setTimeout(r, opts.quietMs));

    it('matches subjects with * (one token) and > (one or more trailing tokens)', async () => {
      const p = s.fresh('wild');
      const subs: Record<string, Subscription> = {
        exact: s.bus.subscribe(`${p}.candle.1m.binance.BTCUSDT`),
        star: s.bus.subscribe(`${p}.candle.*.binance.BTCUSDT`),
        twoStars: s.bus.subscribe(`${p}.candle.1m.*.*`),
        tail: s.bus.subscribe(`${p}.candle.>`),
        midTail: s.bus.subscribe(`${p}.candle.1m.>`),
        all: s.bus.subscribe(`${p}.>`),
      };
      const got = Object.fromEntries(Object.entries(subs).map(([k, v]) => [k, collect(v)]));
      await s.bus.flush();
      const subjects = [
        `${p}.candle.1m.binance.BTCUSDT`,
        `${p}.candle.5m.binance.BTCUSDT`,
        `${p}.candle.1m.kraken.XBTUSD`,
        `${p}.candle.1m`,
        `${p}.candle`,
        `${p}.alert.binance.BTCUSDT`,
      ];
      for (const subj of subjects) s.bus.publish(subj, enc.encode(subj));
      s.bus.publish(`${p}.end`, enc.encode('end'));
      await s.bus.flush();
      await expect
        .poll(() => got.all!.items.some((m) => text(m) === 'end'), {
          timeout: opts.arriveMs,
          interval: 10,
          message: 'the end marker',
        })
        .toBe(true);
      await quiet();
      const seen = (k: string): string[] => got[k]!.items.map((m) => m.subject);
      expect(seen('exact')).toEqual([`${p}.candle.1m.binance.BTCUSDT`]);
      expect(seen('star')).toEqual([`${p}.candle.1m.binance.BTCUSDT`, `${p}.candle.5m.binance.BTCUSDT`]);
      expect(seen('twoStars')).toEqual([`${p}.candle.1m.binance.BTCUSDT`, `${p}.candle.1m.kraken.XBTUSD`]);
      expect(seen('tail')).toEqual(subjects.slice(0, 4));
      expect(seen('midTail')).toEqual([`${p}.candle.1m.binance.BTCUSDT`, `${p}.candle.1m.kraken.XBTUSD`]);
      expect(seen('all')).toEqual([...subjects, `${p}.end`]);
      for (const sub of Object.values(subs)) sub.unsubscribe();
      await Promise.all(Object.values(got).map((g) => g.done));
    });

    it('carries data and headers', async () => {
      const p = s.fresh('hdr');
      const sub = s.bus.subscribe(`${p}.x`);
      const got = collect(sub);
      await s.bus.flush();
      s.bus.publish(`${p}.x`, enc.encode('payload'), { 'tm-key': 'binance:BTCUSDT:1m:0', 'tm-rev': '2' });
      s.bus.publish(`${p}.x`, new Uint8Array(0));
      await s.bus.flush();
      await expect
        .poll(() => got.items.length, { timeout: opts.arriveMs, interval: 10, message: 'two messages' })
        .toBe(2);
      expect(text(got.items[0]!)).toBe('payload');
      expect(got.items[0]!.headers).toEqual({ 'tm-key': 'binance:BTCUSDT:1m:0', 'tm-rev': '2' });
      expect(got.items[1]!.data.length).toBe(0);
      expect(got.items[1]!.headers).toEqual({});
      sub.unsubscribe();
      await got.done;
    });

    it('a full subscriber buffer drops its oldest messages and counts them, without slowing the publisher', async () => {
      const p = s.fresh('slow');
      const sub = s.bus.subscribe(`${p}.x`, { capacity: 3 });
      await s.bus.flush();
      for (let i = 0; i < 10; i++) s.bus.publish(`${p}.x`, enc.encode(String(i)));
      await s.bus.flush();
      await expect.poll(() => sub.dropped, { timeout: opts.arriveMs, interval: 10, message: '7 drops' }).toBe(7);
      const it = sub[Symbol.asyncIterator]();
      const first3 = [await it.next(), await it.next(), await it.next()].map((r) => text(r.value as BusMessage));
      expect(first3).toEqual(['7', '8', '9']);
      sub.unsubscribe();
      expect((await it.next()).done).toBe(true);
    });

    it('unsubscribe and the subscription signal end the iterator', async () => {
      const p = s.fresh('end');
      const a = s.bus.subscribe(`${p}.a`);
      const controller = new AbortController();
      const b = s.bus.subscribe(`${p}.b`, { signal: controller.signal });
      const ga = collect(a);
      const gb = collect(b);
      a.unsubscribe();
      controller.abort();
      await ga.done;
      await gb.done;
      s.bus.publish(`${p}.a`, enc.encode('late'));
      await s.bus.flush();
      await quiet();
      expect(ga.items).toEqual([]);
    });

    it('an ended subscription is released, however it ended, while its signal lives on', async () => {
      // A WebSocket connection's signal outlives the many subscriptions made under it; a listener
      // left on it would hold every ended subscription and its buffer.
      const gc = collectGarbage();
      const p = s.fresh('free');
      const connection = new AbortController();
      const refs: Array<WeakRef<Subscription>> = [];
      // In a function of its own, so that no variable of this test's frame holds the last one.
      const cycle = async (i: number): Promise<void> => {
        const own = new AbortController();
        const signal = i % 3 === 2 ? own.signal : connection.signal;
        const sub = s.bus.subscribe(`${p}.x.${i % 7}`, { signal, capacity: 2_000 });
        refs.push(new WeakRef(sub));
        if (i % 3 === 0) sub.unsubscribe();
        else if (i % 3 === 1) await sub[Symbol.asyncIterator]().return?.();
        else own.abort();
      };
      for (let i = 0; i < 300; i++) await cycle(i);
      await s.bus.flush();
      const alive = async (): Promise<number> => {
        for (let i = 0; i < 10; i++) {
          await new Promise((r) => setTimeout(r, 10));
          gc();
          if (refs.every((r) => r.deref() === undefined)) break;
        }
        return refs.filter((r) => r.deref() !== undefined).length;
      };
      expect(await alive()).toBe(0);
      connection.abort();
    });

    it('refuses invalid subjects', () => {
      const p = s.fresh('bad');
      expect(() => s.bus.publish(`${p}.*`, enc.encode('x'))).toThrow();
      expect(() => s.bus.publish(`${p}..x`, enc.encode('x'))).toThrow();
      expect(() => s.bus.subscribe(`${p}.>.x`)).toThrow();
    });

    it('durable publish de-duplicates by message id, and the stored message is also live', async () => {
      const p = s.fresh('js');
      const stream = s.fresh('CANDLES');
      await s.bus.ensureStream({ name: stream, subjects: [`${p}.closed.>`], duplicateWindowMs: 60_000 });
      await s.bus.ensureStream({ name: stream, subjects: [`${p}.closed.>`], duplicateWindowMs: 60_000 });
      const live = s.bus.subscribe(`${p}.closed.>`);
      const got = collect(live);
      await s.bus.flush();

      const subject = `${p}.closed.1m.binance.BTCUSDT`;
      const a1 = await s.bus.publishDurable(subject, enc.encode('rev0'), { msgId: 'binance:BTCUSDT:1m:0#0' });
      const a2 = await s.bus.publishDurable(subject, enc.encode('rev0 again'), { msgId: 'binance:BTCUSDT:1m:0#0' });
      const a3 = await s.bus.publishDurable(subject, enc.encode('rev1'), {
        msgId: 'binance:BTCUSDT:1m:0#1',
        headers: { 'tm-rev': '1' },
      });
      expect(a1).toEqual({ stream, seq: 1, duplicate: false });
      expect(a2).toEqual({ stream, seq: 1, duplicate: true });
      expect(a3).toEqual({ stream, seq: 2, duplicate: false });

      const controller = new AbortController();
      const stored = collect(s.bus.readStream(stream, { signal: controller.signal }));
      await expect
        .poll(() => stored.items.length, { timeout: opts.arriveMs, interval: 10, message: 'two stored messages' })
        .toBe(2);
      await quiet();
      controller.abort();
      await stored.done;
      expect(stored.items.map((m) => [m.seq, m.subject, dec.decode(m.data)])).toEqual([
        [1, subject, 'rev0'],
        [2, subject, 'rev1'],
      ]);
      expect(stored.items[1]!.headers['tm-rev']).toBe('1');
      expect(stored.items[0]!.time).toBeGreaterThan(Date.now() - 60_000);

      // Live subscribers see every durable publish, the duplicate too: the stream de-duplicates
      // what it stores, live consumers drop what they have seen by (key, revision).
      await expect
        .poll(() => got.items.length, { timeout: opts.arriveMs, interval: 10, message: 'three live messages' })
        .toBe(3);
      expect(got.items.map(text)).toEqual(['rev0', 'rev0 again', 'rev1']);
      live.unsubscribe();
      await got.done;
    });

    it('readStream starts at a sequence, filters by subject, then follows new messages', async () => {
      const p = s.fresh('rs');
      const stream = s.fresh('ALERTS');
      await s.bus.ensureStream({ name: stream, subjects: [`${p}.alert.>`] });
      for (let i = 1; i <= 4; i++) {
        const venue = i % 2 ? 'binance' : 'kraken';
        await s.bus.publishDurable(`${p}.alert.${venue}.X`, enc.encode(`a${i}`), { msgId: `a${i}` });
      }
      const controller = new AbortController();
      const got = collect(
        s.bus.readStream(stream, { fromSeq: 2, subject: `${p}.alert.binance.>`, signal: controller.signal }),
      );
      await expect.poll(() => got.items.length, { timeout: opts.arriveMs, interval: 10, message: 'a3' }).toBe(1);
      await s.bus.publishDurable(`${p}.alert.binance.X`, enc.encode('a5'), { msgId: 'a5' });
      await s.bus.publishDurable(`${p}.alert.kraken.X`, enc.encode('a6'), { msgId: 'a6' });
      await expect.poll(() => got.items.length, { timeout: opts.arriveMs, interval: 10, message: 'a5' }).toBe(2);
      await quiet();
      controller.abort();
      await got.done;
      expect(got.items.map((m: StoredMessage) => [m.seq, dec.decode(m.data)])).toEqual([
        [3, 'a3'],
        [5, 'a5'],
      ]);
    });

    it('KV without create: a missing bucket is UnavailableError, one that exists opens with its keys', async () => {
      const name = s.fresh('kvo');
      const err = await s.bus.kv(name, { create: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as UnavailableError).retriable).toBe(true);
      const owner = await s.bus.kv(name);
      await owner.put('placement', enc.encode('{"v":1}'));
      const opened = await s.bus.kv(name, { create: false });
      expect(dec.decode((await opened.get('placement'))?.value)).toBe('{"v":1}');
    });

    it('KV put, get, delete and keys', async () => {
      const kv = await s.bus.kv(s.fresh('kv'));
      expect(await kv.get('placement.worker-1')).toBeNull();
      const r1 = await kv.put('placement.worker-1', enc.encode('[0,1]'));
      const r2 = await kv.put('placement.worker-2', enc.encode('[2]'));
      const r3 = await kv.put('placement.worker-1', enc.encode('[0]'));
      expect(r2).toBeGreaterThan(r1);
      expect(r3).toBeGreaterThan(r2);
      const e = await kv.get('placement.worker-1');
      expect(e && { key: e.key, v: dec.decode(e.value), rev: e.revision, op: e.operation }).toEqual({
        key: 'placement.worker-1',
        v: '[0]',
        rev: r3,
        op: 'put',
      });
      await kv.put('epoch.0', enc.encode('7'));
      expect((await kv.keys()).sort()).toEqual(['epoch.0', 'placement.worker-1', 'placement.worker-2']);
      expect((await kv.keys('placement.*')).sort()).toEqual(['placement.worker-1', 'placement.worker-2']);
      await kv.delete('placement.worker-2');
      expect(await kv.get('placement.worker-2')).toBeNull();
      expect((await kv.keys('placement.>')).sort()).toEqual(['placement.worker-1']);
      await expect(kv.put('bad key', enc.encode('x'))).rejects.toThrow();
    });

    it('KV watch yields current values (not deleted ones), then every change in revision order', async () => {
      const kv = await s.bus.kv(s.fresh('kvw'));
      await kv.put('placement.a', enc.encode('1'));
      await kv.put('placement.b', enc.encode('1'));
      await kv.put('other.c', enc.encode('1'));
      await kv.delete('placement.b');
      const controller = new AbortController();
      const got = collect(kv.watch({ key: 'placement.>', signal: controller.signal }));
      await expect
        .poll(() => got.items.length, { timeout: opts.arriveMs, interval: 10, message: 'initial value' })
        .toBe(1);
      await kv.put('placement.a', enc.encode('2'));
      await kv.put('other.c', enc.encode('2'));
      await kv.put('placement.d', enc.encode('1'));
      await kv.delete('placement.a');
      await expect
        .poll(() => got.items.length, { timeout: opts.arriveMs, interval: 10, message: 'three changes' })
        .toBe(4);
      await quiet();
      controller.abort();
      await got.done;
      const view = (e: KvEntry): string => `${e.operation} ${e.key} ${dec.decode(e.value)}`;
      expect(got.items.map(view)).toEqual([
        'put placement.a 1',
        'put placement.a 2',
        'put placement.d 1',
        'delete placement.a ',
      ]);
      const revs = got.items.map((e) => e.revision);
      expect([...revs].sort((a, b) => a - b)).toEqual(revs);
    });
  });
}
