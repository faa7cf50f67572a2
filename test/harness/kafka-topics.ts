import type { Admin, ITopicConfig } from 'kafkajs';

/**
 * Creates topics and waits until every partition has a leader. kafkajs's own `waitForLeaders`
 * retries only LEADER_NOT_AVAILABLE: a broker whose metadata cache has not yet caught up with the
 * controller answers UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this
 * topic-partition") for a moment, and kafkajs throws it (a fresh-clone CI run failed on it). This
 * polls the metadata instead, tolerating that answer until `timeoutMs`.
 */
export async function createTopicsAndWait(
  admin: Admin,
  topics: readonly ITopicConfig[],
  timeoutMs = 20_000,
): Promise<boolean> {
  const created = await admin.createTopics({ topics: [...topics], waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      const ready = topics.every((t) => {
        const found = meta.topics.find((m) => m.name === t.topic);
        const expected = t.numPartitions ?? 1;
        return (
          found !== undefined && found.partitions.length >= expected && found.partitions.every((p) => p.leader >= 0)
        );
      });
      if (ready) return created;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`topics ${names.join(', ')} have no leaders after ${timeoutMs} ms`, { cause: last });
}
