/**
 * Diffs between rendered rulesets, and the datapath on the dry driver: a
 * one-service change is the same small transaction with 10 or 2000 services,
 * nothing that stays is recreated (so counters keep counting), chains and
 * objects go only after nothing refers to them, and the datapath checks,
 * applies, and keeps the old ruleset when nft rejects the new one.
 */
import { describe, expect, it } from 'vitest';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import type { RenderedRuleset } from '../../appliance/compile/render-model.js';
import type { SequenceTable } from '../../appliance/compile/sequence-table.js';
import { diffRulesets, type RulesetDiff } from '../../appliance/datapath/diff.js';
import { DryDriver } from '../../appliance/datapath/dry-driver.js';
import { placeOverflow } from '../../appliance/datapath/overflow.js';
import { DatapathError } from '../../appliance/datapath/datapath.js';
import { syntheticFacts, syntheticService, syntheticTable } from './render-synthetic.js';
import { FACTS, IPV6_FACTS, ipv6Nat, policies, portRange } from './render-tables.js';

const render = (t: SequenceTable, facts = syntheticFacts()) => renderRuleset(t, facts, { tableName: 'vcn' });

/** The diff the datapath would send: rows new in a direct map go to its overflow first (datapath/overflow.ts). */
function diff(prev: RenderedRuleset, next: RenderedRuleset): RulesetDiff {
  placeOverflow(prev, next);
  const p = diffRulesets(prev, next);
  if (p.kind !== 'diff') throw new Error(`expected a diff, got a full replace: ${p.reason}`);
  return p.diff;
}

/** The table with service k added (k beyond the synthetic range) or removed. */
function plus(t: SequenceTable, k: number): SequenceTable {
  const { policy, rows } = syntheticService(k, { features: true });
  return { rows: [...t.rows, ...rows], services: [...t.services, policy] };
}
function minus(t: SequenceTable, service: string): SequenceTable {
  return { rows: t.rows.filter((r) => r.service !== service), services: t.services.filter((p) => p.service !== service) };
}

describe('diff', () => {
  it('adding one service adds its elements only, the same transaction with 100 or 2000 services', () => {
    const scripts = [100, 2000].map((n) => {
      const base = syntheticTable(n, { features: true });
      const d = diff(render(base), render(plus(base, 5003)));
      expect(d.carry).toEqual([]);
      return d.script();
    });
    // Service 5003: NAT (k % 4 = 3), ACL (k % 10 = 3): 4 rows, 2 NAT addresses, 1 ACL block, 1 ACL counter.
    expect(scripts[0]).toBe(scripts[1]);
    expect(scripts[0]).not.toMatch(/delete|flush|^table/m);
    expect(scripts[0]).toContain('add counter netdev vcn acl/s5003/10');
    // The client row goes to the overflow of its direct map, as an action id: the transaction adds no goto
    // element, so the kernel does not re-validate the table's jumps (overflow.ts).
    expect(scripts[0]).toMatch(/add element netdev vcn v4_ddp_if_I0_o \{\n\t10\.100\.19\.139 \. 80 : 0x[0-9a-f]{8}/);
    expect(scripts[0]).not.toMatch(/: (goto|jump) /);
    expect(scripts[0]).toContain('"I2" . 10.100.19.139 . 80 : 10.200.19.139');
  });

  it('removing one service deletes its elements, then the objects only it used', () => {
    const base = syntheticTable(100, { features: true });
    const d = diff(render(base), render(minus(base, 's13')));
    const s = d.script();
    expect(d.stats).toMatchObject({ elementsAdded: 0, objectsDeleted: 1, chainsDeleted: 0, setsDeleted: 0 });
    expect(s).not.toMatch(/^add /m);
    expect(s).toContain('"I0" . 10.100.0.13 . 80');
    expect(s.indexOf('delete element netdev vcn acl4_cnt')).toBeLessThan(s.indexOf('delete counter netdev vcn acl/s13/10'));
  });

  it('deletes a chain after the last element that used it, and a set after the rules that named it', () => {
    const a = render(policies(), FACTS);
    const b = render({ rows: policies().rows.filter((r) => r.service !== 'limited'), services: policies().services.filter((p) => p.service !== 'limited') }, FACTS);
    const s = diff(a, b).script();
    const lines = s.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/^delete element netdev vcn v4_ddp_if_I0 /)).toBeGreaterThanOrEqual(0);
    expect(at(/^delete chain netdev vcn a_/)).toBeGreaterThan(at(/^delete element netdev vcn v4_ddp_if_I0 /));
    expect(at(/^delete map netdev vcn v4_ddp_if_I0_lim/)).toBeGreaterThan(at(/^delete chain netdev vcn a_/));
    expect(at(/^delete limit netdev vcn lim\/limited\/1000\/50/)).toBeGreaterThan(at(/^delete map netdev vcn v4_ddp_if_I0_lim/));
  });

  it('marks diffs whose only non-element changes are action chains and objects added or deleted (a transaction of ours can carry them)', () => {
    const base = syntheticTable(100, { features: true });
    // The same kind of service: its elements only; with an ACL, its counter object too.
    const plain = diff(render(base), render(plus(base, 5004)));
    expect(plain.elementsOnly).toBe(true);
    expect(plain.chainsAndElements).toBeUndefined();
    expect(diff(render(base), render(plus(base, 5003))).chainsAndElements).toMatchObject({ add: [], del: [], addObjects: [{ name: 'acl/s5003/10' }] });
    // A service behind a server no running service uses (with an ACL: a counter object too), then the same away again.
    const fresh = syntheticService(5003, { features: true });
    const oldMac = fresh.rows[1].sends[0].mac;
    for (const r of fresh.rows) for (const snd of r.sends) if (snd.mac === oldMac) snd.mac = '02:5e:00:00:02:01';
    const withFresh = { rows: [...base.rows, ...fresh.rows], services: [...base.services, fresh.policy] };
    const added = diff(render(base), render(withFresh));
    expect(added.elementsOnly).toBe(false);
    expect(added.chainsAndElements!.add.map((c) => c.name)).toEqual([...added.script().matchAll(/^  chain (\w+) \{/gm)].map((m) => m[1]));
    expect(added.chainsAndElements).toMatchObject({ del: [], addObjects: [{ type: 'counter', name: 'acl/s5003/10' }], delObjects: [] });
    const removed = diff(render(withFresh), render(base));
    expect(removed.chainsAndElements).toMatchObject({ add: [], addObjects: [], delObjects: [{ type: 'counter', name: 'acl/s5003/10' }] });
    expect(removed.chainsAndElements!.del).toEqual([...removed.script().matchAll(/^delete chain netdev vcn (\w+)$/gm)].map((m) => m[1]));
    // A map that goes with its service (the last rate-limited one): nft's script.
    const a = render(policies(), FACTS);
    const b = render({ rows: policies().rows.filter((r) => r.service !== 'limited'), services: policies().services.filter((p) => p.service !== 'limited') }, FACTS);
    expect(diff(a, b).stats.setsDeleted).toBeGreaterThan(0);
    expect(diff(a, b).chainsAndElements).toBeUndefined();
  });

  it('a set that goes away is emptied first, so the chains its elements name can go before it', () => {
    const both = { rows: [...portRange().rows, ...policies().rows], services: [...portRange().services, ...policies().services] };
    const s = diff(render(both, FACTS), render(policies(), FACTS)).script();
    const lines = s.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/^flush map netdev vcn v4_mddp_r$/)).toBeGreaterThanOrEqual(0);
    expect(at(/^delete chain netdev vcn a_/)).toBeGreaterThan(at(/^flush map netdev vcn v4_mddp_r$/));
    expect(at(/^delete map netdev vcn v4_mddp_r$/)).toBeGreaterThan(at(/^delete chain netdev vcn a_/));
    expect(s).not.toMatch(/^delete element netdev vcn v4_mddp_r/m);
  });

  it('nothing changed: an empty diff', () => {
    const t = syntheticTable(50, { features: true });
    const d = diff(render(t), render(t));
    expect(d.empty).toBe(true);
    expect(d.script()).toBe('');
  });

  it('never recreates what stays: unchanged elements and ACL counters are not in the script', () => {
    const base = syntheticTable(100, { features: true });
    const s = diff(render(base), render(plus(base, 7000))).script();
    expect(s).not.toContain('acl/s3/10');
    expect(s).not.toContain('10.100.0.1 ');
  });

  it('a failover replaces the rows of the failed device and carries their counts', () => {
    const base = syntheticTable(20);
    const moved = structuredClone(base);
    // The firewall's client-side leg gets another MAC (Fig 15C: F1_M → F2_M).
    for (const r of moved.rows) {
      if (r.receive.srcMac === '02:5e:00:00:0f:00') r.receive.srcMac = '02:5e:00:00:0f:10';
      for (const s of r.sends) if (s.mac === '02:5e:00:00:0f:00') s.mac = '02:5e:00:00:0f:10';
    }
    const d = diff(render(base), render(moved));
    expect(d.carry.length).toBe(40);
    expect(d.carry).toContainEqual({
      id: 's0/80/out',
      from: [{ map: 'v4_mssp', key: '"I1" . 02:5e:00:00:0f:00 . 10.100.0.0 . 80' }],
      to: { map: 'v4_mssp', key: '"I1" . 02:5e:00:00:0f:10 . 10.100.0.0 . 80' },
    });
    const counters = new Map([['v4_mssp', new Map([['"I1" . 02:5e:00:00:0f:10 . 10.100.0.0 . 80', { packets: 7, bytes: 700 }]])]]);
    expect(d.script(counters)).toContain('"I1" . 02:5e:00:00:0f:10 . 10.100.0.0 . 80 counter packets 7 bytes 700 : 0x');
    // The client rows keep their key; only their action changes (delete, then add).
    const s = d.script();
    expect(s.indexOf('delete element netdev vcn v4_ddp')).toBeLessThan(s.indexOf('add element netdev vcn v4_ddp'));
  });

  it('the first IPv6 service: new maps first, then the dispatch chain rewritten', () => {
    const base = syntheticTable(10);
    const v6 = ipv6Nat();
    const facts = { ...syntheticFacts(), neighbors: IPV6_FACTS.neighbors, interfaceMacs: { ...syntheticFacts().interfaceMacs, I0: '02:ee:00:00:00:00', I1: '02:ee:00:00:00:01' } };
    const d = diff(render(base, facts), render({ rows: [...base.rows, ...v6.rows], services: [...base.services, ...v6.services] }, facts));
    const s = d.script();
    expect(s.indexOf('add map netdev vcn v6_ddp')).toBeLessThan(s.indexOf('flush chain netdev vcn p6'));
    expect(s).toContain('add rule netdev vcn p6 iifname . ip6 daddr . th dport vmap @v6_ddp');
    expect(s).toContain('add rule netdev vcn p6 meta mark set iifname . ip6 daddr . th dport map @v6_ddp_o meta mark vmap @act');
    // m6 and p6 get the new lookups; every hook chain moves its IPv6 goto in front of the IPv4 lookups (IPv6
    // services are there now), and in_I1, where the IPv6 server now sends, turns to s6 (added before it).
    expect(d.stats.chainsRewritten).toBe(2 + [...render(base, facts).chains.values()].filter((c) => c.kind === 'hook').length);
    expect(s.indexOf('add rule netdev vcn in_I1 meta protocol ip6 goto s6')).toBeGreaterThan(s.indexOf('chain s6 {'));
  });

  it('falls back to a full replace when the two rulesets cannot be bridged', () => {
    const a = render(syntheticTable(3));
    const b = renderRuleset(syntheticTable(3), syntheticFacts(), { tableName: 'other' });
    expect(diffRulesets(a, b)).toEqual({ kind: 'full', reason: 'table name changes (vcn → other)' });
  });
});

describe('datapath on the dry driver', () => {
  it('first a full load, then diffs; each is checked before it is applied', async () => {
    const dp = new DryDriver();
    const a = render(syntheticTable(10));
    const r1 = await dp.apply(a);
    expect(r1.mode).toBe('full');
    expect(dp.dry.scripts.map((s) => s.check)).toEqual([true, false]);
    expect(dp.dry.scripts[1].script).toMatch(/^table netdev vcn \{\}\ndelete table netdev vcn\ntable netdev vcn \{/);
    const r2 = await dp.apply(render(syntheticTable(11)));
    expect(r2.mode).toBe('diff');
    // Service 10: four rows, its server's MAC in the sender map, the action id of the new server.
    expect(r2.stats?.elementsAdded).toBe(6);
    expect(r2.stats?.chainsAdded).toBe(1);
    expect(dp.dry.applied()[1]).not.toContain('delete table');
    const r3 = await dp.apply(render(syntheticTable(11)));
    expect(r3.mode).toBe('noop');
    expect(dp.dry.scripts).toHaveLength(4);
  });

  it('a rejected ruleset throws and leaves the running one in place', async () => {
    const dp = new DryDriver();
    const a = render(syntheticTable(5));
    await dp.apply(a);
    dp.dry.reject = /10\.100\.0\.6/;
    const err = await dp.apply(render(syntheticTable(7))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatapathError);
    expect((err as DatapathError).code).toBe('NFT_REJECTED');
    expect(dp.running()).toBe(a);
    expect(dp.dry.scripts.at(-1)!.check).toBe(true);
  });

  it('check() sends what apply() would, with nft -c only', async () => {
    const dp = new DryDriver();
    await dp.check(render(syntheticTable(2)));
    expect(dp.dry.scripts).toHaveLength(1);
    expect(dp.dry.scripts[0].check).toBe(true);
    expect(dp.running()).toBeUndefined();
  });

  it('reads the counts of replaced rows before applying and starts their new elements there', async () => {
    const dp = new DryDriver();
    const base = syntheticTable(2);
    await dp.apply(render(base));
    const moved = structuredClone(base);
    moved.rows[0].sends[0].mac = '02:5e:00:00:0f:10';
    dp.dry.answers.set(
      'get element netdev vcn v4_ddp_if_I0 { 10.100.0.0 . 80 }',
      'table netdev vcn {\n\tmap v4_ddp_if_I0 {\n\t\telements = { 10.100.0.0 . 80 counter packets 12 bytes 3400 : 0x00001234 }\n\t}\n}\n',
    );
    const r = await dp.apply(render(moved));
    expect(r.carried).toBe(1);
    expect(dp.dry.applied()[1]).toContain('\t10.100.0.0 . 80 counter packets 12 bytes 3400 : 0x');
  });

  it('refuses a ruleset for another table', async () => {
    const dp = new DryDriver('vcn');
    await expect(dp.apply(renderRuleset(syntheticTable(1), syntheticFacts(), { tableName: 'x' }))).rejects.toThrow(/for table x/);
  });
});
