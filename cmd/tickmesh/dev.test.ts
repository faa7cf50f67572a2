import { describe, expect, it } from 'vitest';
import { parseWorkerOptions } from '../../internal/config/worker.js';
import { DEFAULT_TOPICS } from '../../internal/ingest/topics.js';
import { createMemoryLog } from '../../internal/log/memory-log.js';
import { ensureDevTopics } from './dev.js';

describe('tickmesh dev topics', () => {
  it('creates every topic its roles write: trades, klines, ingest rejects and gaps, worker late and rejected', async () => {
    const log = createMemoryLog();
    // The options dev runs its worker with.
    const options = parseWorkerOptions({ 'rejected-topic': DEFAULT_TOPICS.rejects });
    const topics = await ensureDevTopics(log.admin(), 4, options);
    expect(topics).toEqual([
      'tickmesh.trades.v1',
      'tickmesh.klines.v1',
      'tickmesh.trades.rejected.v1',
      'tickmesh.gaps.v1',
      'tickmesh.trades.late.v1',
    ]);
    expect(await log.admin().partitionCount(DEFAULT_TOPICS.trades)).toBe(4);
    // A market's klines land in the partition number of its trades.
    expect(await log.admin().partitionCount(DEFAULT_TOPICS.klines)).toBe(4);
    // A write to each succeeds (before, the first reject or late trade hit `unknown topic`).
    const producer = log.producer();
    for (const topic of topics) {
      await expect(
        producer.send(topic, [{ key: 'k', value: new Uint8Array([1]), headers: {} }]),
      ).resolves.not.toThrow();
    }
  });
});
