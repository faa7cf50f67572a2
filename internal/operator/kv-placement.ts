import type { Bus, KvBucket } from '../bus/bus.js';
import type { Logger } from '../observe/logger.js';
import { encodeDocument, type PlacementDocument, parseDocument } from './placement-document.js';
import type { PlacementMirror } from './publication.js';

/**
 * The placement in a KV bucket of the Bus (NATS KV in production, the in-process bus in embedded
 * mode): what workers watch. Key `placement` holds the whole document; the same bucket carries the
 * workers' handoff announcements under `release.<partition>` (docs/OPERATOR.md, "Handoff").
 */
export const PLACEMENT_BUCKET = 'tickmesh-placement';
export const PLACEMENT_KV_KEY = 'placement';

export function releaseKey(partition: number): string {
  return `release.${partition}`;
}

/** The pattern of every partition's releaseKey. */
export const RELEASE_KEYS = 'release.>';

export function createKvPlacementMirror(deps: { readonly bus: Bus; readonly bucket?: string }): PlacementMirror {
  let bucket: Promise<KvBucket> | null = null;
  return {
    async publish(doc: PlacementDocument): Promise<void> {
      bucket ??= deps.bus.kv(deps.bucket ?? PLACEMENT_BUCKET).catch((err: unknown) => {
        bucket = null;
        throw err;
      });
      await (await bucket).put(PLACEMENT_KV_KEY, new TextEncoder().encode(encodeDocument(doc)));
    },
  };
}

/**
 * Worker side: the current placement document, then each newer one, until `signal` aborts.
 * Documents that do not parse are logged and skipped; a document whose version is not above the
 * last one yielded is skipped (a reconnecting watch may deliver the current value again).
 */
export async function* watchPlacement(
  bucket: KvBucket,
  signal: AbortSignal,
  logger: Logger,
): AsyncGenerator<PlacementDocument> {
  let last = -1;
  for await (const entry of bucket.watch({ key: PLACEMENT_KV_KEY, signal })) {
    if (entry.operation !== 'put') continue;
    let doc: PlacementDocument;
    try {
      doc = parseDocument(new TextDecoder().decode(entry.value));
    } catch (err) {
      logger.warn({ err, revision: entry.revision }, 'placement document skipped');
      continue;
    }
    if (doc.version <= last) continue;
    last = doc.version;
    yield doc;
  }
}
