import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { linkSignals } from './linked-signal.js';

describe('linkSignals', () => {
  it('aborts with any source, and unlink leaves no listener on a source that lives on', () => {
    const a = new AbortController();
    const b = new AbortController();
    const first = linkSignals([a.signal, undefined, b.signal]);
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(1);
    first.unlink();
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(b.signal, 'abort')).toHaveLength(0);

    const second = linkSignals([a.signal, b.signal]);
    b.abort();
    expect(second.signal.aborted).toBe(true);
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
    expect(linkSignals([b.signal]).signal.aborted).toBe(true);
  });
});
