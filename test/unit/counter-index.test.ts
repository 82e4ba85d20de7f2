/**
 * The counter read path by slot: the per-ruleset index (key bytes → slot),
 * the streaming reader of the netlink dump, the typed snapshot, and the
 * ledger fed by position. Each is checked against the path by key text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import { parseNetlinkDump } from '../../appliance/datapath/netlink-counters.js';
import { snapshotCounters } from '../../appliance/datapath/counters.js';
import { CounterIndex, counterIndexOf, keyHash } from '../../appliance/datapath/counter-index.js';
import { CounterDumpReader } from '../../appliance/datapath/counter-dump.js';
import { indexedCounts, indexedSnapshot } from '../../appliance/datapath/counter-snapshot.js';
import { CounterLedger } from '../../mgmt/accounting/ledger.js';
import { Store } from '../../mgmt/store/store.js';
import { everything, IPV6_FACTS } from './render-tables.js';

const COUNTER = Buffer.from('counter\0', 'latin1');

/** The captured dump with counts written into every element counter: packets n, bytes 1000·n (n = 1, 2, ...). */
function countedDump(): Buffer {
  const dump = Buffer.from(readFileSync(join(import.meta.dirname, '..', 'golden', 'render', 'everything.netlink.bin')));
  let n = 0;
  for (let at = dump.indexOf(COUNTER); at >= 0; at = dump.indexOf(COUNTER, at + 1)) {
    // NAME attribute (header 4 bytes before the text, padded to 12), then the DATA nest.
    const data = at - 4 + 12;
    const end = data + dump.readUInt16LE(data);
    n++;
    for (let p = data + 4; p + 4 <= end; p += (dump.readUInt16LE(p) + 3) & ~3) {
      const type = dump.readUInt16LE(p + 2) & 0x3fff;
      if (type === 1) dump.writeBigUInt64BE(BigInt(1000 * n), p + 4);
      if (type === 2) dump.writeBigUInt64BE(BigInt(n), p + 4);
    }
  }
  expect(n).toBeGreaterThan(10);
  return dump;
}

describe('counter index and reader', () => {
  const model = renderRuleset(everything(), IPV6_FACTS, { tableName: 'vcn' });

  it('keyHash: same bytes same hash; set number, a byte or the split into key and end change it', () => {
    const b = Buffer.from('0123456789abcdefXYZ');
    const h = (...a: Parameters<typeof keyHash>) => [...keyHash(...a)];
    expect(h(0, b, 0, 16, 16, 16)).toEqual(h(0, Buffer.from(b), 0, 16, 16, 16));
    expect(h(1, b, 0, 16, 16, 16)).not.toEqual(h(0, b, 0, 16, 16, 16));
    expect(h(0, b, 0, 8, 8, 16)).not.toEqual(h(0, b, 0, 16, 16, 16));
    expect(h(0, b, 0, 19, 19, 19)).not.toEqual(h(0, b, 0, 18, 18, 18));
  });

  it('gives every row element a slot: rows of one element share nothing, every row has one', () => {
    const index = new CounterIndex(model);
    expect(index.rowIds).toEqual([...model.rows.keys()]);
    expect([...index.rowSlot].every((s) => s >= 0)).toBe(true);
    const distinct = new Set<string>();
    for (const row of model.rows.values()) distinct.add(`${row.map} ${row.key}`);
    expect(new Set(index.rowSlot).size).toBe(distinct.size);
    expect(counterIndexOf(model)).toBe(counterIndexOf(model));
  });

  it('the dump read by slot gives every row and service port the counts the key-text parse gives', () => {
    const dump = countedDump();
    const byText = snapshotCounters(model, parseNetlinkDump(dump, model.sets));
    const index = counterIndexOf(model);
    for (const chunk of [dump.length, 7, 1000]) {
      const reader = new CounterDumpReader(index);
      for (let i = 0; i < dump.length; i += chunk) reader.push(dump.subarray(i, i + chunk));
      expect(reader.complete()).toBe(true);
      expect(reader.unmatched).toBe(0);
      const snap = indexedSnapshot(model, index, reader.packets, reader.bytes, reader.objects, byText.at);
      expect([...snap.rows]).toEqual([...byText.rows]);
      expect([...snap.rows].some(([, v]) => v.packets > 0)).toBe(true);
      expect([...snap.servicePorts]).toEqual([...byText.servicePorts]);
      expect(snap.acl).toEqual(byText.acl);
      expect(snap.rows.get(index.rowIds[3])).toEqual(byText.rows.get(index.rowIds[3]));
      expect(indexedCounts(snap)).toBe(snap);
    }
  });

  it('a dump cut inside a frame is not complete; an element of no row is not matched', () => {
    const dump = countedDump();
    const reader = new CounterDumpReader(counterIndexOf(model));
    reader.push(dump.subarray(0, dump.length - 3));
    expect(reader.complete()).toBe(false);
    // The same dump against a ruleset with fewer rows: the other elements find no slot.
    const fewer = { sets: model.sets, rows: new Map([...model.rows].slice(0, 2)) };
    const r2 = new CounterDumpReader(new CounterIndex(fewer));
    r2.push(dump);
    expect(r2.matched).toBeGreaterThan(0);
    expect(r2.unmatched).toBeGreaterThan(0);
  });
});

describe('ledger by position', () => {
  it('observeSlots keeps the same values as observe, including resets, new and gone counters', () => {
    const a = new CounterLedger(Store.open(':memory:').db);
    const b = new CounterLedger(Store.open(':memory:').db);
    const ids = ['svc/x/-/in', 'svc/x/-/out', 'hop/x/-/f1', 'client/acl/x/10'];
    const readings = [
      [5, 10, 15, 20],
      [6, 11, 3, 20], // hop reset: its base grows
      [7, 12, 4, 21],
    ];
    let binding = b.bind(ids.length, (p) => ids[p]);
    expect([...binding.slots]).toEqual([-1, -1, -1, -1]);
    readings.forEach((r, t) => {
      a.observe(
        ids.map((id, i) => [id, { packets: r[i], bytes: 100 * r[i] }] as const),
        t,
      );
      b.observeSlots(
        binding,
        (p) => ids[p],
        Float64Array.from(r),
        Float64Array.from(r, (v) => 100 * v),
        t,
      );
      expect([...b]).toEqual([...a]);
      expect(b.valid(binding)).toBe(true);
    });
    expect(b.get('hop/x/-/f1')).toEqual({ packets: 16n, bytes: 1600n, since: 0 }) // 15, then a reset to 3 continues at 15, then 4;
    // A reading without the client counter forgets it: bindings made before are stale.
    const old = binding;
    const fewer = ids.slice(0, 3);
    binding = b.bind(3, (p) => fewer[p]);
    b.observeSlots(binding, (p) => fewer[p], Float64Array.from([8, 13, 5]), Float64Array.from([800, 1300, 500]), 3);
    expect(b.get('client/acl/x/10')).toBeUndefined();
    expect(b.valid(old)).toBe(false);
    expect(b.valid(binding)).toBe(true);
    expect(() => b.observeSlots(old, (p) => ids[p], new Float64Array(4), new Float64Array(4), 4)).toThrow(/stale/);
  });
});
