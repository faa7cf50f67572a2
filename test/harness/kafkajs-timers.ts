import { fixRequestQueueTimers } from '../../internal/log/kafka-request-queue.js';

/*
 * Every test process of the layers that talk to Kafka (vitest `setupFiles`): the tests' own
 * kafkajs clients (`new Kafka(...)`, producing and reading what the processes under test consume
 * and write) get the request-queue fix tickmesh's clients have (internal/log/kafka-request-queue.ts).
 * Without it, each of their connections re-arms a negative-delay timer after its first response,
 * and Node 24 prints `TimeoutNegativeWarning: -<Date.now()> is a negative number` in the run.
 */
// False on another kafkajs version: its unit test (kafka-request-queue.test.ts) says so.
fixRequestQueueTimers();
