import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ArchiveStore } from './archive-store.js';

const MIB = 1024 * 1024;

export interface S3ArchiveOptions {
  readonly bucket: string;
  /** Key prefix of the archive's root, '' or ending with '/'. */
  readonly prefix: string;
  /** An S3-compatible server (MinIO, Ceph, moto); absent: AWS. Path-style addressing with one. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Absent: the SDK's default chain (environment, profile, instance role). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /**
   * Files larger than this go up as a multipart upload in parts of this size (the last smaller).
   * Default 64 MiB; S3 takes parts of 5 MiB to 5 GiB, so other values are refused.
   */
  readonly partBytes?: number;
}

/**
 * The archive in an S3-compatible bucket. An object appears only once its PutObject or its
 * multipart upload completes, so readers never see part of a file. A process killed during a
 * multipart upload leaves an incomplete upload, invisible to readers and to list(); a bucket
 * lifecycle rule (AbortIncompleteMultipartUpload) reclaims its space.
 */
export async function openS3ArchiveStore(options: S3ArchiveOptions): Promise<ArchiveStore> {
  const client = new S3Client({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, forcePathStyle: true }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  const { bucket, prefix } = options;
  const partBytes = options.partBytes ?? 64 * MIB;
  if (!Number.isInteger(partBytes) || partBytes < 5 * MIB || partBytes > 5 * 1024 * MIB) {
    throw new RangeError(`S3 parts are 5 MiB to 5 GiB: partBytes ${partBytes}`);
  }
  const stagingDir = await mkdtemp(join(tmpdir(), 'tickmesh-archive-'));

  async function putInParts(key: string, path: string, size: number): Promise<void> {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    try {
      const file = await open(path, 'r');
      const parts: { ETag: string | undefined; PartNumber: number }[] = [];
      try {
        for (let at = 0, n = 1; at < size; at += partBytes, n++) {
          const body = Buffer.alloc(Math.min(partBytes, size - at));
          await file.read(body, 0, body.length, at);
          const { ETag } = await client.send(
            new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: body }),
          );
          parts.push({ ETag, PartNumber: n });
        }
      } finally {
        await file.close();
      }
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (err) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => {});
      throw err;
    }
  }

  return {
    stagingDir,
    location: `s3://${bucket}/${prefix}`,
    async list() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key.slice(prefix.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return keys;
    },
    async close() {
      client.destroy();
      await rm(stagingDir, { recursive: true, force: true });
    },
    async put(key, path) {
      const { size } = await stat(path);
      if (size <= partBytes) {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: await readFile(path) }));
      } else {
        await putInParts(prefix + key, path, size);
      }
      await rm(path, { force: true });
    },
  };
}
