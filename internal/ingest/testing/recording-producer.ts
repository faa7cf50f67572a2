import type { LogProducer, OutgoingRecord } from '../../log/log.js';

/** A LogProducer that keeps what it is sent, per topic: the unit layer's stand-in for the log. */
export class RecordingProducer implements LogProducer {
  readonly topics = new Map<string, OutgoingRecord[]>();
  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    const list = this.topics.get(topic) ?? [];
    list.push(...records);
    this.topics.set(topic, list);
  }
  async close(): Promise<void> {}
  get(topic: string): OutgoingRecord[] {
    return this.topics.get(topic) ?? [];
  }
}
