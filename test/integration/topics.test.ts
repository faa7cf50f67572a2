import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createKafkaAdmin } from '../../internal/log/kafka-admin.js';
import { silentLogger } from '../../internal/observe/logger.js';
import { endpoint, freshName } from '../harness/env.js';

const MAIN = resolve(import.meta.dirname, '../../cmd/tickmesh/main.ts');
const run = promisify(execFile);

function topicNames(): { trades: string; late: string; rejected: string; gaps: string; klines: string } {
  const base = freshName('topics');
  return {
    trades: `${base}.trades`,
    late: `${base}.late`,
    rejected: `${base}.rejected`,
    gaps: `${base}.gaps`,
    klines: `${base}.klines`,
  };
}

function topicFlags(t: ReturnType<typeof topicNames>): string[] {
  return [
    ...['--trades-topic', t.trades, '--late-topic', t.late, '--rejected-topic', t.rejected],
    ...['--gaps-topic', t.gaps, '--klines-topic', t.klines],
  ];
}

async function tickmesh(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, KAFKA_BROKERS: endpoint('KAFKA_BROKERS'), LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function partitionCounts(topics: string[]): Promise<Map<string, number>> {
  const admin = await createKafkaAdmin({
    brokers: endpoint('KAFKA_BROKERS').split(','),
    clientId: 'topics-test',
    logger: silentLogger(),
  });
  try {
    return await admin.partitionCounts(topics);
  } finally {
    await admin.close();
  }
}

describe('tickmesh topics on real Kafka', () => {
  it('plans with --dry-run, creates the five topics, is idempotent, and refuses another trades partition count', async () => {
    const t = topicNames();
    const all = Object.values(t);

    const dry = await tickmesh(['topics', '--partitions', '3', '--dry-run', ...topicFlags(t)]);
    expect(dry.code).toBe(0);
    for (const topic of all) expect(dry.stdout).toContain(`would create  ${topic} (3 partitions`);
    expect((await partitionCounts(all)).size).toBe(0);

    const created = await tickmesh(['topics', '--partitions', '3', '--replication-factor', '1', ...topicFlags(t)]);
    expect(created.code, created.stderr).toBe(0);
    expect(Object.fromEntries(await partitionCounts(all))).toEqual(Object.fromEntries(all.map((x) => [x, 3])));

    const again = await tickmesh(['topics', '--partitions', '3', ...topicFlags(t)]);
    expect(again.code).toBe(0);
    for (const topic of all) expect(again.stdout).toContain(`exists  ${topic} (3 partitions)`);

    const other = await tickmesh(['topics', '--partitions', '6', ...topicFlags(t)]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`topic ${t.trades} exists with 3 partitions, 6 were asked for`);
    expect((await partitionCounts([t.trades])).get(t.trades)).toBe(3);
  }, 360_000);

  it('ingest started before its topics says so once, waits, and runs once `tickmesh topics` made them', async () => {
    const t = topicNames();
    const ingest: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'ingest',
        '--venue',
        'sim',
        '--symbols',
        'BTC-USD',
        '--metrics-port',
        '0',
        '--trades-topic',
        t.trades,
        '--rejects-topic',
        t.rejected,
        '--gaps-topic',
        t.gaps,
        '--klines-topic',
        t.klines,
      ],
      { env: { ...process.env, KAFKA_BROKERS: endpoint('KAFKA_BROKERS'), LOG_LEVEL: 'info' } },
    );
    let output = '';
    ingest.stdout?.on('data', (d) => {
      output += String(d);
    });
    ingest.stderr?.on('data', (d) => {
      output += String(d);
    });
    const exited = new Promise<number | null>((r) => ingest.on('exit', (code) => r(code)));
    try {
      await expect.poll(() => output, { timeout: 90_000, interval: 200 }).toMatch(/topics missing/);
      // Several polls later: still one line about it, and no Kafka errors.
      await new Promise((r) => setTimeout(r, 6_000));
      const lines = output.split('\n').filter((l) => l.trim() !== '');
      const missing = lines.filter((l) => l.includes('topics missing'));
      expect(missing).toHaveLength(1);
      expect(missing[0]).toContain(t.trades);
      expect(missing[0]).toContain(t.gaps);
      expect(missing[0]).toContain(t.klines);
      expect(missing[0]).toContain('tickmesh topics');
      expect(lines.filter((l) => /"level":(50|60)/.test(l) || /error/i.test(l))).toEqual([]);

      const created = await tickmesh(['topics', '--partitions', '2', ...topicFlags(t)]);
      expect(created.code, created.stderr).toBe(0);
      await expect.poll(() => output, { timeout: 60_000, interval: 200 }).toMatch(/topics exist now/);
      await expect.poll(() => output, { timeout: 60_000, interval: 200 }).toMatch(/ingest started/);
    } finally {
      ingest.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 360_000);
});
