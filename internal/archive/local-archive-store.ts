import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { ArchiveStore } from './archive-store.js';

/** Inside the root, so that a rename into the archive never crosses file systems. */
const STAGING = '.staging';

/**
 * The archive in a local directory. A file is written under `<root>/.staging/`, flushed to disk
 * and renamed into place: rename(2) is atomic, so a reader (or a restart) never meets part of a
 * file. Keys starting with a dot are no part of the archive.
 */
export async function openLocalArchiveStore(root: string): Promise<ArchiveStore> {
  const stagingDir = join(root, STAGING);
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(stagingDir, { recursive: true });
  return {
    stagingDir,
    location: root,
    async list() {
      const entries = await readdir(root, { recursive: true, withFileTypes: true });
      const keys: string[] = [];
      for (const e of entries) {
        if (!e.isFile()) continue;
        const key = relative(root, join(e.parentPath, e.name)).split(sep).join('/');
        if (!key.startsWith('.')) keys.push(key);
      }
      return keys;
    },
    async close() {},
    async put(key, path) {
      const file = await open(path, 'r');
      try {
        await file.sync();
      } finally {
        await file.close();
      }
      const target = join(root, ...key.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await rename(path, target);
    },
  };
}
