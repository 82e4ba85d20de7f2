/** The daemon's background compaction (mgmt/northbound/compactor.ts): runs the northbound's compact, one at a time, and says what it did. */
import { describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../appliance/datapath/datapath.js';
import { OverflowCompactor } from '../../mgmt/northbound/compactor.js';

const moved: ApplyResult = { mode: 'diff', scriptBytes: 0, readMs: 1, checkMs: 0, applyMs: 4, carried: 2, stats: { elementsAdded: 2, elementsDeleted: 2, chainsAdded: 0, chainsDeleted: 0, chainsRewritten: 0, setsAdded: 0, setsDeleted: 0, objectsAdded: 0, objectsDeleted: 0 } };

describe('overflow compactor', () => {
  it('runs one compaction at a time and logs what moved; nothing to do logs nothing; a failure is logged, not thrown', async () => {
    const lines: string[] = [];
    let calls = 0;
    let answer: () => Promise<ApplyResult | undefined> = () => Promise.resolve(moved);
    const c = new OverflowCompactor({ compact: () => (calls++, answer()) }, { everyMs: 0, log: (l) => lines.push(l) });
    await Promise.all([c.tick(), c.tick()]);
    expect(calls).toBe(1);
    expect(lines).toEqual(['compaction: 2 rows moved into the direct maps in 4 ms (2 counts carried)']);
    answer = () => Promise.resolve(undefined);
    await c.tick();
    expect(lines).toHaveLength(1);
    answer = () => Promise.reject(new Error('kernel said no'));
    await c.tick();
    expect(lines[1]).toBe('compaction failed (rows stay in the overflow maps): kernel said no');
    c.start();
    await c.stop();
  });
});
