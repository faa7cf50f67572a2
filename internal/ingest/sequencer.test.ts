import { describe, expect, it } from 'vitest';
import { Sequencer } from './sequencer.js';

describe('sequencer', () => {
  it('finds duplicates and gaps in consecutive ids', () => {
    const s = new Sequencer(true);
    expect(s.check('k', '100')).toEqual({ kind: 'new' });
    s.accept('k', '100');
    expect(s.check('k', '101')).toEqual({ kind: 'new' });
    s.accept('k', '101');
    expect(s.check('k', '101')).toEqual({ kind: 'duplicate' });
    expect(s.check('k', '50')).toEqual({ kind: 'duplicate' });
    expect(s.check('k', '105')).toEqual({ kind: 'gap', fromId: 102, toId: 104 });
    expect(s.check('other', '7')).toEqual({ kind: 'new' });
    expect(s.check('k', 'abc')).toEqual({ kind: 'bad-id' });
    expect(s.check('k', '-1')).toEqual({ kind: 'bad-id' });
  });

  it('reads a trade that spans ids (OKX: the last of count) from its first id', () => {
    const lane = new Sequencer(true).lane('okx:BTC-USDT');
    lane.accept('100');
    expect(lane.check('103', 3)).toEqual({ kind: 'new' }); // 101..103
    lane.accept('103');
    expect(lane.check('103', 3)).toEqual({ kind: 'duplicate' });
    expect(lane.check('110', 2)).toEqual({ kind: 'gap', fromId: 104, toId: 108 }); // 109..110
    expect(lane.check('105', 4)).toEqual({ kind: 'new' }); // 102..105 overlaps what was produced
    expect(lane.check('104')).toEqual({ kind: 'new' });
  });

  it('deduplicates non-sequential ids within a window', () => {
    const s = new Sequencer(false, 3);
    for (const id of ['a', 'b', 'c']) s.accept('k', id);
    expect(s.check('k', 'a')).toEqual({ kind: 'duplicate' });
    s.accept('k', 'd'); // evicts 'a'
    expect(s.check('k', 'a')).toEqual({ kind: 'new' });
    expect(s.check('k', 'd')).toEqual({ kind: 'duplicate' });
    expect(s.check('k', 'zzz')).toEqual({ kind: 'new' });
  });
});
