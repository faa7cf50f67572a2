import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbParquetWriter } from '../../internal/archive/duckdb-parquet-writer.js';
import { openS3ArchiveStore } from '../../internal/archive/s3-archive-store.js';
import type { ArchiveRow } from '../../internal/archive/window.js';
import type { Trade } from '../../internal/market/trade.js';
import { archiveTradeLines, decimal18 } from '../harness/archive.js';
import { endpoint, freshName } from '../harness/env.js';
import { loadRealTrades } from '../support/real-trades.js';

// A trades-archive file larger than the S3 store's part size goes up as a multipart upload
// (s3-archive-store.ts). On the moto server the harness runs, with parts of 5 MiB (S3's smallest):
// the object is the staged file byte for byte, S3 says it was made of parts, and DuckDB reads back
// exactly the rows written.

const MIB = 1024 * 1024;
const PART = 5 * MIB;
const KEY =
  'exchange=binance-futures/symbol=BTCUSDT/date=2020-02-22/hour=00/part-0-00000000000000000000-00000000000000999999.parquet';

const credentials = () => ({ accessKeyId: endpoint('S3_ACCESS_KEY'), secretAccessKey: endpoint('S3_SECRET_KEY') });

/**
 * `n` rows: the real trades' markets, sides and prices in turn, under random ids, sizes and
 * times (seeded), so that the file is large for its row count (Parquet compresses repeats away).
 */
function rowsOf(trades: readonly Trade[], n: number): ArchiveRow[] {
  let seed = 7;
  const next = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return (x ^ (x >>> 14)) >>> 0;
  };
  const t0 = 1_582_329_600_000_000n;
  return Array.from({ length: n }, (_, i) => {
    const t = trades[i % trades.length] as Trade;
    return {
      market: t.market,
      tradeId: `${next().toString(16)}${next().toString(16)}${next().toString(16)}`,
      price: t.price,
      size: `${next() % 100}.${next()}`,
      side: t.side,
      eventTimeUs: t0 + BigInt(i) * 1_000n + BigInt(next() % 1_000),
      receiveTimeUs: t0 + BigInt(i) * 1_000n + BigInt(next() % 100_000),
      simulated: false,
      tradeCount: 1 + (next() % 3),
      partition: 0,
      offset: BigInt(i),
      index: 0,
    };
  });
}

/** A row as test/harness/archive.ts's archiveTradeLines prints it from the file and its path. */
function line(r: ArchiveRow): string {
  return [
    '0',
    String(r.offset),
    '0',
    'binance-futures',
    'BTCUSDT',
    '2020-02-22',
    '0',
    r.market,
    r.tradeId,
    decimal18(r.price),
    decimal18(r.size),
    r.side,
    String(r.eventTimeUs),
    String(r.receiveTimeUs),
    'false',
    String(r.tradeCount),
  ].join('|');
}

describe('the S3 archive store, a file past the part size', () => {
  const bucket = freshName('archive-mp');
  let s3: S3Client;
  let work: string;
  let trades: Trade[];

  beforeAll(async () => {
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: endpoint('S3_ENDPOINT'),
      forcePathStyle: true,
      credentials: credentials(),
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    work = await mkdtemp(join(tmpdir(), 'tickmesh-archive-mp-'));
    trades = await loadRealTrades();
  }, 60_000);

  afterAll(async () => {
    s3?.destroy();
    await rm(work, { recursive: true, force: true });
  });

  it('goes up in parts and reads back in DuckDB equal to the rows written', async () => {
    const store = await openS3ArchiveStore({
      bucket,
      prefix: 'trades/',
      endpoint: endpoint('S3_ENDPOINT'),
      region: 'us-east-1',
      credentials: credentials(),
      partBytes: PART,
    });
    const writer = await createDuckDbParquetWriter();
    try {
      // Enough rows for two whole parts and a smaller last one (about 30 bytes a row).
      const rows = rowsOf(trades, 450_000);
      const staged = join(store.stagingDir, 'file.parquet');
      await writer.write(staged, rows);
      const { size } = await stat(staged);
      expect(size).toBeGreaterThan(2 * PART);
      const sha = createHash('sha256')
        .update(await readFile(staged))
        .digest('hex');

      await store.put(KEY, staged);
      await expect(stat(staged)).rejects.toThrow(/ENOENT/);
      expect(await store.list()).toEqual([KEY]);

      // A multipart object's ETag is the hash of its parts' hashes, suffixed with their count.
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `trades/${KEY}` }));
      expect(head.ContentLength).toBe(size);
      expect(head.ETag).toMatch(new RegExp(`-${Math.ceil(size / PART)}"$`));
      expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);

      const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `trades/${KEY}` }))).Body;
      const bytes = (await body?.transformToByteArray()) ?? new Uint8Array();
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha);
      const copy = join(work, 'copy');
      await mkdir(dirname(join(copy, KEY)), { recursive: true });
      await writeFile(join(copy, KEY), bytes);
      const read = await archiveTradeLines(copy);
      expect(read.length).toBe(rows.length);
      expect(read).toEqual(rows.map(line));
    } finally {
      await writer.close();
      await store.close();
    }
  }, 300_000);

  it('refuses a part size S3 would refuse', async () => {
    const open = (partBytes: number) =>
      openS3ArchiveStore({
        bucket,
        prefix: '',
        endpoint: endpoint('S3_ENDPOINT'),
        region: 'us-east-1',
        credentials: credentials(),
        partBytes,
      });
    await expect(open(PART - 1)).rejects.toThrow(/5 MiB to 5 GiB/);
    await expect(open(5 * 1024 * MIB + 1)).rejects.toThrow(/5 MiB to 5 GiB/);
  });
});
