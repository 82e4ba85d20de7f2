/**
 * Direct row maps and their overflow (appliance/datapath/overflow.ts): a full
 * apply loads every row of a direct shape into its direct map (verdicts); a
 * diff adds new and changed rows to the overflow map only (action ids), so
 * that it adds no goto element; the next full apply compacts them back with
 * their counts; counters are found in either map.
 */
import { describe, expect, it } from 'vitest';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import { locateElement, type RenderedRuleset } from '../../appliance/compile/render-model.js';
import type { SequenceTable } from '../../appliance/compile/sequence-table.js';
import { snapshotCounters } from '../../appliance/datapath/counters.js';
import { DryDriver } from '../../appliance/datapath/dry-driver.js';
import { compactOverflow, foldOverflowCounters, placeOverflow } from '../../appliance/datapath/overflow.js';
import { serviceIp, syntheticFacts, syntheticService, syntheticTable } from './render-synthetic.js';

const render = (t: SequenceTable) => renderRuleset(t, syntheticFacts(), { tableName: 'vcn' });
const plus = (t: SequenceTable, k: number): SequenceTable => {
  const { policy, rows } = syntheticService(k);
  return { rows: [...t.rows, ...rows], services: [...t.services, policy] };
};
const elements = (r: RenderedRuleset, set: string) => [...r.sets.get(set)!.elements];

describe('direct maps and overflow', () => {
  it('the renderer puts every row of a direct shape into its direct map, as a goto; the overflow map starts empty', () => {
    const r = render(syntheticTable(4));
    const direct = r.sets.get('v4_ddp_if_I0')!;
    expect(direct).toMatchObject({ dataType: 'verdict', counter: true, interval: false });
    expect(direct.elements.size).toBe(4);
    for (const v of direct.elements.values()) expect(v).toMatch(/^goto a_[0-9a-f]{14}$/);
    // Every action chain has its action id in act from the start: an overflow row reusing one adds no goto.
    const act = new Set(r.sets.get('act')!.elements.values());
    for (const v of direct.elements.values()) expect(act.has(v)).toBe(true);
    expect(r.sets.get('v4_ddp_if_I0_o')).toMatchObject({ dataType: 'mark', counter: true });
    expect(r.sets.get('v4_ddp_if_I0_o')!.elements.size).toBe(0);
    expect(r.chains.get('in_I0')!.rules.slice(0, 2)).toEqual([
      'ip daddr . th dport vmap @v4_ddp_if_I0',
      'meta mark set ip daddr . th dport map @v4_ddp_if_I0_o meta mark vmap @act',
    ]);
  });

  it('a diff places new and changed rows in the overflow (by action id), keeps unchanged ones, and is idempotent', () => {
    const base = syntheticTable(20);
    const prev = render(base);
    const changed = structuredClone(plus(base, 40));
    // s3's client row now goes to another firewall MAC: same key, another action.
    changed.rows.find((x) => x.service === 's3' && x.fromStep === 0)!.sends[0].mac = '02:5e:00:00:0f:10';
    const next = render(changed);
    const inOverflow = placeOverflow(prev, next);
    expect(inOverflow).toBe(2);
    const ovf = new Map(elements(next, 'v4_ddp_if_I0_o'));
    const act = next.sets.get('act')!.elements;
    expect([...ovf.keys()].sort()).toEqual([`${serviceIp(3)} . 80`, `${serviceIp(40)} . 80`].sort());
    for (const id of ovf.values()) expect(act.get(id)).toMatch(/^goto a_/);
    expect(next.sets.get('v4_ddp_if_I0')!.elements.size).toBe(19);
    expect(next.sets.get('v4_ddp_if_I0')!.elements.has(`${serviceIp(3)} . 80`)).toBe(false);
    // Rows keep naming the direct map; locateElement finds where the element lives.
    const row = next.rows.get('s40/80/in')!;
    expect(row.map).toBe('v4_ddp_if_I0');
    expect(locateElement(next, row)).toEqual({ map: 'v4_ddp_if_I0_o', key: row.key });
    // Again with the same running ruleset: nothing moves; against a ruleset that has them in overflow: they stay.
    expect(placeOverflow(prev, next)).toBe(2);
    const again = render(changed);
    expect(placeOverflow(next, again)).toBe(2);
    expect(elements(again, 'v4_ddp_if_I0_o')).toEqual(elements(next, 'v4_ddp_if_I0_o'));
  });

  it('compaction moves overflow rows back to the direct map with their verdicts', () => {
    const base = syntheticTable(10);
    const fresh = render(plus(base, 30));
    const next = render(plus(base, 30));
    placeOverflow(render(base), next);
    expect(compactOverflow(next)).toBe(1);
    expect(next.sets.get('v4_ddp_if_I0_o')!.elements.size).toBe(0);
    expect(elements(next, 'v4_ddp_if_I0').sort()).toEqual(elements(fresh, 'v4_ddp_if_I0').sort());
  });

  it('counts of overflow elements fold into the direct map for a full apply, and a snapshot finds rows in either map', () => {
    const base = syntheticTable(3);
    const next = render(plus(base, 9));
    placeOverflow(render(base), next);
    const key = `${serviceIp(9)} . 80`;
    const kernel = new Map([
      ['v4_ddp_if_I0', new Map([[`${serviceIp(1)} . 80`, { packets: 1, bytes: 100 }]])],
      ['v4_ddp_if_I0_o', new Map([[key, { packets: 5, bytes: 500 }]])],
    ]);
    const snap = snapshotCounters(next, { elements: kernel, objects: new Map() });
    expect(snap.rows.get('s9/80/in')).toEqual({ packets: 5, bytes: 500 });
    expect(snap.rows.get('s1/80/in')).toEqual({ packets: 1, bytes: 100 });
    compactOverflow(next);
    const folded = foldOverflowCounters(kernel, next);
    expect(folded.get('v4_ddp_if_I0')!.get(key)).toEqual({ packets: 5, bytes: 500 });
    expect(folded.get('v4_ddp_if_I0_o')!.size).toBe(0);
  });

  it('on the dry datapath: an incremental add goes to the overflow, the next full apply compacts it with its count', async () => {
    const dp = new DryDriver();
    // Service 21 has the same server and protocol as service 5: its rows reuse action chains, so nothing needs a goto.
    const base = syntheticTable(20);
    await dp.apply(render(base));
    const r1 = await dp.apply(render(plus(base, 21)));
    expect(r1.mode).toBe('diff');
    const diffScript = dp.dry.applied()[1];
    expect(diffScript).toMatch(/add element netdev vcn v4_ddp_if_I0_o \{\n\t10\.100\.0\.21 \. 80 : 0x[0-9a-f]{8}\n\}/);
    expect(diffScript).not.toMatch(/: (goto|jump) /);
    // The kernel's count of the overflow row, as nft -j lists it.
    const list = {
      nftables: [
        { metainfo: { json_schema_version: 1 } },
        { map: { family: 'netdev', name: 'v4_ddp_if_I0_o', table: 'vcn', type: ['ipv4_addr', 'inet_service'], map: 'mark', elem: [[{ elem: { val: { concat: ['10.100.0.21', 80] }, counter: { packets: 3, bytes: 210 } } }, 42]] } },
      ],
    };
    dp.dry.answers.set('-j list table netdev vcn', JSON.stringify(list));
    expect((await dp.readCounters()).rows.get('s21/80/in')).toEqual({ packets: 3, bytes: 210 });
    const r2 = await dp.apply(render(plus(base, 21)), { full: true });
    expect(r2.mode).toBe('full');
    const full = dp.dry.applied()[2];
    expect(full).toMatch(/\t10\.100\.0\.21 \. 80 counter packets 3 bytes 210 : goto a_[0-9a-f]{14}/);
    expect(full).not.toMatch(/add element netdev vcn v4_ddp_if_I0_o/);
    expect(dp.running()!.sets.get('v4_ddp_if_I0_o')!.elements.size).toBe(0);
  });

  it('compaction without a full apply: one diff moves the overflow rows to their direct maps, with their counts', async () => {
    const dp = new DryDriver();
    const base = syntheticTable(20);
    await dp.apply(render(base));
    expect(await dp.compact()).toBeUndefined();
    await dp.apply(render(plus(base, 21)));
    expect(dp.overflowRows()).toBe(1);
    dp.dry.answers.set(
      `get element netdev vcn v4_ddp_if_I0_o { ${serviceIp(21)} . 80 }`,
      `table netdev vcn {\n\tmap v4_ddp_if_I0_o {\n\t\telements = { ${serviceIp(21)} . 80 counter packets 4 bytes 400 : 0x00001234 }\n\t}\n}\n`,
    );
    const r = await dp.compact();
    expect(r).toMatchObject({ mode: 'diff', carried: 1 });
    const s = dp.dry.applied().at(-1)!;
    expect(s).toMatch(/delete element netdev vcn v4_ddp_if_I0_o \{\n\t10\.100\.0\.21 \. 80\n\}/);
    expect(s).toMatch(/add element netdev vcn v4_ddp_if_I0 \{\n\t10\.100\.0\.21 \. 80 counter packets 4 bytes 400 : goto a_[0-9a-f]{14}\n\}/);
    expect(dp.overflowRows()).toBe(0);
    // The next diff compares against the compacted table: the row stays in the direct map.
    const again = await dp.apply(render(plus(base, 21)));
    expect(again.mode).toBe('noop');
  });
});
