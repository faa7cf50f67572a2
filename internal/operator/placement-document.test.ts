import { describe, expect, it } from 'vitest';
import { InputError } from '../runtime/errors.js';
import { emptyPlacement, place } from './placement.js';
import { assignmentFor, encodeDocument, fromDocument, parseDocument, toDocument } from './placement-document.js';

const options = { tolerance: 0.2, maxMovesPerRound: 100 };
const meta = { publishedBy: 'op-0', publishedAt: new Date('2025-01-01T00:00:00Z') };

describe('placement document', () => {
  it('round-trips through JSON and back to a placement', () => {
    const { placement } = place({ current: emptyPlacement(4), partitionCount: 4, members: ['a', 'b'], options });
    const doc = toDocument(placement, meta);
    expect(parseDocument(encodeDocument(doc))).toEqual(doc);
    expect(fromDocument(doc)).toEqual(placement);
  });

  it('refuses documents that do not list every partition once', () => {
    const { placement } = place({ current: emptyPlacement(2), partitionCount: 2, members: ['a'], options });
    const doc = toDocument(placement, meta);
    const broken = { ...doc, partitions: [doc.partitions[0], doc.partitions[0]] };
    expect(() => parseDocument(JSON.stringify(broken))).toThrow(InputError);
    expect(() => parseDocument('{')).toThrow(InputError);
    expect(() => parseDocument(JSON.stringify({ ...doc, format: 'other' }))).toThrow(InputError);
  });

  it('tells a worker what to acquire, release and keep', () => {
    const one = place({ current: emptyPlacement(4), partitionCount: 4, members: ['a'], options }).placement;
    const two = place({ current: one, partitionCount: 4, members: ['a', 'b'], options }).placement;
    const d1 = toDocument(one, meta);
    const d2 = toDocument(two, meta);
    const forA = assignmentFor(d1, d2, 'a');
    const forB = assignmentFor(d1, d2, 'b');
    expect(forA.acquire).toEqual([]);
    expect(forA.release.map((r) => r.newOwner)).toEqual(['b', 'b']);
    expect(forA.keep).toHaveLength(2);
    expect(forB.acquire.map((x) => x.partition)).toEqual(forA.release.map((r) => r.partition));
    expect(forB.acquire.every((x) => x.previousOwner === 'a' && x.previousOwnerIsMember && !x.restart)).toBe(true);
    // a dies: b takes a's partitions; a is no longer a member, so no release will come.
    const three = place({ current: two, partitionCount: 4, members: ['b'], options }).placement;
    const forB2 = assignmentFor(d2, toDocument(three, meta), 'b');
    expect(forB2.acquire.map((x) => [x.previousOwner, x.previousOwnerIsMember])).toEqual([
      ['a', false],
      ['a', false],
    ]);
    expect(forB2.keep).toHaveLength(2);
    // At start (no earlier document) everything owned is acquired.
    expect(assignmentFor(null, d2, 'b').acquire).toHaveLength(2);
  });
});
