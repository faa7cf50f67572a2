import {
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../runtime/errors.js';
import { classifyKafkaError } from './kafka-client.js';

/** kafkajs's constructors take more than its type declarations admit (a cause, retry counts). */
const make = (C: unknown, ...args: unknown[]): Error => new (C as new (...a: unknown[]) => Error)(...args);

describe('classifyKafkaError', () => {
  it('calls a broker outage unavailable however deep kafkajs wrapped it', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    // What a produce request returns after the broker was gone longer than kafkajs's retries.
    const exhausted = make(KafkaJSNumberOfRetriesExceeded, refused, { retryCount: 5, retryTime: 4_800 });
    const wrapped = make(KafkaJSNonRetriableError, exhausted, { cause: exhausted });
    for (const err of [
      refused,
      exhausted,
      wrapped,
      make(KafkaJSGroupCoordinatorNotFound, 'Failed to find group coordinator'),
    ]) {
      const c = classifyKafkaError(err, 'produce');
      expect(c).toBeInstanceOf(UnavailableError);
      expect((c as UnavailableError).cause).toBe(err);
    }
  });

  it('passes a refusal through', () => {
    const tooLarge = new KafkaJSProtocolError('The request included a message larger than the max message size');
    Object.assign(tooLarge, { retriable: false });
    const wrapped = make(KafkaJSNonRetriableError, tooLarge, { cause: tooLarge });
    expect(classifyKafkaError(wrapped, 'produce')).toBe(wrapped);
    expect(classifyKafkaError(new TypeError('bad'), 'produce')).toBeInstanceOf(TypeError);
  });
});
