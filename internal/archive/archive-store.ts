/**
 * Where the trades archive's files live (the contract): a local directory
 * (local-archive-store.ts) or an S3-compatible bucket (s3-archive-store.ts). Keys are
 * `/`-separated paths relative to the archive's root (layout.ts).
 */
export interface ArchiveStore {
  /** Every key under the root, complete files only. */
  list(): Promise<string[]>;
  /**
   * Moves the local file `path` (written under stagingDir) to `key`, replacing any file there.
   * Atomic for readers: a key shows a whole file or nothing, also when the process dies half-way.
   * The local file is gone once this resolves.
   */
  put(key: string, path: string): Promise<void>;
  /** A local directory for files being written; created by the store, emptied of leftovers at open. */
  readonly stagingDir: string;
  /** Where the archive is, for logs: a directory or `s3://bucket/prefix`. */
  readonly location: string;
  /** Releases the client and removes the staging directory where it is not the archive's own. */
  close(): Promise<void>;
}
