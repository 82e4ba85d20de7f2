/** The compacting collection after big data-plane work (mgmt/heap-settle.ts), on the real V8 heap of the test worker. */
import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { HeapSettle } from '../../mgmt/heap-settle.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Many objects of which every 20th survives, spread over the pages: a regular full collection keeps those pages. */
function fragment(): object[] {
  const keep: object[] = [];
  let junk: object[] = [];
  for (let i = 0; i < 2_000_000; i++) {
    const o = { i, s: `k${i}` };
    if (i % 20 === 0) keep.push(o);
    else junk.push(o);
  }
  junk = [];
  return keep.concat(junk);
}

describe('heap settle', () => {
  it('small changes do nothing; big ones coalesce into one collection a quiet time after the last, which gives the pages back', async () => {
    const lines: string[] = [];
    const settle = new HeapSettle({ minElements: 1000, delayMs: 50, log: (l) => lines.push(l) });
    settle.afterWork(999);
    await wait(120);
    expect(settle.runs).toBe(0);

    const survivors = fragment();
    const before = getHeapStatistics().total_heap_size;
    settle.afterWork(5000);
    await wait(20);
    settle.afterWork(400_000);
    expect(settle.runs).toBe(0);
    await wait(150);
    expect(settle.runs).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^heap: compacted after a big data-plane change in \d+ ms$/);
    const after = getHeapStatistics().total_heap_size;
    // 100k survivors of ~2M objects: the heap shrinks to a fraction of what the garbage took.
    expect(after).toBeLessThan(before / 2);
    expect(survivors).toHaveLength(100_000);
  });

  it('stop() cancels a pending collection', async () => {
    const settle = new HeapSettle({ minElements: 1, delayMs: 30 });
    settle.afterWork(10);
    settle.stop();
    await wait(80);
    expect(settle.runs).toBe(0);
  });
});
