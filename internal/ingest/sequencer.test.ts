import { describe, expect, it } from 'vitest';
import { Sequencer } from './sequencer.js';

describe('sequencer', () => {
  it('finds duplicates and gaps in consecutive ids', () => {
    const s = new Sequencer(true);
    expect(s.check('k', '100', 10)).toEqual({ kind: 'new' });
    s.accept('k', '100', 10);
    expect(s.check('k', '101', 11)).toEqual({ kind: 'new' });
    s.accept('k', '101', 11);
    expect(s.check('k', '101', 11)).toEqual({ kind: 'duplicate' });
    expect(s.check('k', '50', 5)).toEqual({ kind: 'duplicate' });
    expect(s.check('k', '105', 12)).toEqual({ kind: 'gap', fromId: 102, toId: 104 });
    expect(s.check('other', '7', 1)).toEqual({ kind: 'new' });
    expect(s.check('k', 'abc', 12)).toEqual({ kind: 'bad-id' });
    expect(s.check('k', '-1', 12)).toEqual({ kind: 'bad-id' });
  });

  it('reads a trade that spans ids (OKX: the last of count) from its first id', () => {
    const T = 1_600_000_000_000;
    const lane = new Sequencer(true).lane('okx:BTC-USDT');
    lane.accept('100', T);
    expect(lane.check('103', T, 3)).toEqual({ kind: 'new' }); // 101..103
    lane.accept('103', T);
    expect(lane.check('103', T, 3)).toEqual({ kind: 'duplicate' });
    expect(lane.check('110', T, 2)).toEqual({ kind: 'gap', fromId: 104, toId: 108 }); // 109..110
    expect(lane.check('105', T, 4)).toEqual({ kind: 'new' }); // 102..105 overlaps what was produced
    expect(lane.check('104', T)).toEqual({ kind: 'new' });
  });

  it('deduplicates non-sequential ids within a window', () => {
    const s = new Sequencer(false, 3);
    for (const id of ['a', 'b', 'c']) s.accept('k', id, 10);
    expect(s.check('k', 'a', 10)).toEqual({ kind: 'duplicate' });
    s.accept('k', 'd', 10); // evicts 'a'
    expect(s.check('k', 'a', 10)).toEqual({ kind: 'new' });
    expect(s.check('k', 'd', 10)).toEqual({ kind: 'duplicate' });
    expect(s.check('k', 'zzz', 10)).toEqual({ kind: 'new' });
  });

  it('tells a reset of the ids from repeats by the event time: a lower id dated after every accepted trade', () => {
    const s = new Sequencer(true);
    for (let id = 5_000; id <= 5_010; id++) s.accept('k', String(id), 1_000 + id);
    // A repeat, even of an old trade, is never dated after the newest accepted one.
    expect(s.check('k', '5010', 6_010)).toEqual({ kind: 'duplicate' });
    expect(s.check('k', '5003', 6_003)).toEqual({ kind: 'duplicate' });
    expect(s.check('k', '1', 6_010)).toEqual({ kind: 'duplicate' });
    // The venue starts over at 1: later than everything seen, so a reset, and the lane goes on from it.
    expect(s.check('k', '1', 6_011)).toEqual({ kind: 'reset' });
    s.accept('k', '1', 6_011);
    expect(s.lane('k').lastId).toBe('1');
    expect(s.check('k', '2', 6_012)).toEqual({ kind: 'new' });
    s.accept('k', '2', 6_012);
    expect(s.check('k', '2', 6_012)).toEqual({ kind: 'duplicate' });
    expect(s.check('k', '4', 6_013)).toEqual({ kind: 'gap', fromId: 3, toId: 3 });
  });

  it('a reset of non-sequential ids clears the window of the old numbering', () => {
    const s = new Sequencer(false, 10);
    for (const id of ['a', 'b', 'c']) s.accept('k', id, 10);
    // Without an order in the ids, only the time tells: at least RESET_MIN_AHEAD_MS after the newest.
    expect(s.check('k', 'b', 1_009)).toEqual({ kind: 'duplicate' });
    expect(s.check('k', 'b', 1_010)).toEqual({ kind: 'reset' });
    s.accept('k', 'b', 1_010);
    expect(s.check('k', 'a', 1_011)).toEqual({ kind: 'new' });
    expect(s.check('k', 'b', 1_010)).toEqual({ kind: 'duplicate' });
    // Recording an id again at a time already seen (a seed from a log holding a repeat) keeps the window.
    s.accept('k', 'a', 1_012);
    s.accept('k', 'a', 1_012);
    expect(s.check('k', 'b', 1_012)).toEqual({ kind: 'duplicate' });
  });

  it('a recent repeat whose time a venue printed a millisecond later is still a repeat, not a reset', () => {
    const s = new Sequencer(true);
    for (let id = 5_000; id <= 5_010; id++) s.accept('k', String(id), 1_000_000 + id);
    // A REST backfill rounded the newest trade's time down; the WebSocket sends it again, rounded up.
    expect(s.check('k', '5010', 1_005_011)).toEqual({ kind: 'duplicate' });
    expect(s.check('k', '5002', 1_005_011)).toEqual({ kind: 'duplicate' });
    // Far below the last id (a new numbering), or well after the newest trade: a reset.
    expect(s.check('k', '4010', 1_005_011)).toEqual({ kind: 'reset' });
    expect(s.check('k', '5009', 1_006_010)).toEqual({ kind: 'reset' });
  });
});
