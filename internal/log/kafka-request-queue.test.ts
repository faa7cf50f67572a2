import { describe, expect, it } from 'vitest';
import { fixRequestQueueTimers, type RequestQueueInternals, requestQueueClass } from './kafka-request-queue.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Queue extends RequestQueueInternals {
  push(request: unknown): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
}

/** A real kafkajs RequestQueue with at most one request in flight; `sent` lists what went out. */
function queue(): { q: Queue; sent: number[]; push(id: number): Promise<unknown> } {
  const Ctor = requestQueueClass() as unknown as new (o: object) => Queue;
  const q = new Ctor({ maxInFlightRequests: 1, requestTimeout: 30_000, clientId: 't', broker: 'b', logger: quiet });
  const sent: number[] = [];
  const push = (id: number) =>
    new Promise((resolve, reject) =>
      q.push({
        entry: { correlationId: id, apiKey: 0, apiName: 'Produce', apiVersion: 7, resolve, reject },
        expectResponse: true,
        sendRequest: () => sent.push(id),
      }),
    );
  return { q, sent, push };
}

const respond = (q: Queue, id: number) => q.fulfillRequest({ correlationId: id, payload: Buffer.alloc(0), size: 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kafkajs request queue timers', () => {
  it('applies to the kafkajs installed', () => {
    expect(fixRequestQueueTimers()).toBe(true);
    expect(fixRequestQueueTimers()).toBe(true);
  });

  it('arms no timer once a response leaves nothing pending (kafkajs re-armed a 1 ms timer forever)', async () => {
    fixRequestQueueTimers();
    const { q, sent, push } = queue();
    const done = push(1);
    expect(sent).toEqual([1]);
    respond(q, 1);
    await done;
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });

  it('still sends a request that waited for the one in flight, and one that waited out a throttle', async () => {
    fixRequestQueueTimers();
    const { q, sent, push } = queue();
    const first = push(1);
    const second = push(2);
    expect(sent).toEqual([1]);
    respond(q, 1);
    await first;
    expect(sent).toEqual([1, 2]);
    respond(q, 2);
    await second;

    // The broker asked for 40 ms of quiet: a request pushed meanwhile goes when it is over.
    q.maybeThrottle(40);
    const third = push(3);
    expect(sent).toEqual([1, 2]);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    for (let i = 0; i < 100 && sent.length < 3; i++) await sleep(10);
    expect(sent).toEqual([1, 2, 3]);
    respond(q, 3);
    await third;
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });
});
