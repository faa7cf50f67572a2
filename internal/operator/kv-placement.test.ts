import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../bus/memory-bus.js';
import { silentLogger } from '../observe/logger.js';
import { createKvPlacementMirror, PLACEMENT_BUCKET, watchPlacement } from './kv-placement.js';
import { emptyPlacement, place } from './placement.js';
import { type PlacementDocument, toDocument } from './placement-document.js';

const options = { tolerance: 0.2, maxMovesPerRound: 100 };
const meta = { publishedBy: 'op-0', publishedAt: new Date(0) };

describe('placement over the bus KV (in-process bus)', () => {
  it('workers see the current document, then newer ones, never an older one', async () => {
    const bus = createMemoryBus();
    const mirror = createKvPlacementMirror({ bus });
    const p1 = place({ current: emptyPlacement(4), partitionCount: 4, members: ['a'], options }).placement;
    const p2 = place({ current: p1, partitionCount: 4, members: ['a', 'b'], options }).placement;
    await mirror.publish(toDocument(p1, meta));

    const ac = new AbortController();
    const seen: PlacementDocument[] = [];
    const watching = (async () => {
      for await (const doc of watchPlacement(await bus.kv(PLACEMENT_BUCKET), ac.signal, silentLogger())) {
        seen.push(doc);
        if (seen.length === 2) ac.abort();
      }
    })();
    await mirror.publish(toDocument(p1, meta)); // the same version again: skipped
    await mirror.publish(toDocument(p2, meta));
    await watching;
    expect(seen.map((d) => d.version)).toEqual([1, 2]);
    expect(seen[1]!.members).toEqual(['a', 'b']);
    await bus.close();
  });
});
