/** The ledger's id → slot table against a Map, through adds, deletes and growth. */
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../mgmt/accounting/id-table.js';

describe('IdTable', () => {
  it('answers like a Map through 20k adds and deletes (tombstones, rehashes), iterating in slot order', () => {
    const t = new IdTable();
    const m = new Map<string, number>();
    const free: number[] = [];
    let next = 0;
    let seed = 7;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (let step = 0; step < 20000; step++) {
      const id = `hop/svc${rnd(3000)}/80/f${rnd(3)}`;
      if (m.has(id)) {
        if (rnd(2)) {
          expect(t.delete(id)).toBe(true);
          free.push(m.get(id)!);
          m.delete(id);
        }
      } else {
        const slot = free.pop() ?? next++;
        t.set(id, slot);
        m.set(id, slot);
      }
      if (step % 997 === 0) t.reserve(m.size + 100);
    }
    expect(t.size).toBe(m.size);
    for (const [id, slot] of m) expect(t.get(id)).toBe(slot);
    expect(t.get('hop/none')).toBeUndefined();
    expect(t.delete('hop/none')).toBe(false);
    expect([...t.entries()]).toEqual([...m].sort((a, b) => a[1] - b[1]));
    for (const [id, slot] of t.entries()) expect(t.idOf(slot)).toBe(id);
  });
});
