/** The full apply's pure parts: the scratch skeleton script and the transaction's framing. (Against the kernel: test/integration/datapath-full-netlink.test.ts.) */
import { describe, expect, it } from 'vitest';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import { fullBatch, ownObjects, scratchName, skeletonScript } from '../../appliance/datapath/netlink-full.js';
import { chainBatch } from '../../appliance/datapath/netlink-chains.js';
import { BatchEncodeError } from '../../appliance/datapath/netlink-encode.js';
import type { DumpedMessage } from '../../appliance/datapath/netlink-table-dump.js';
import { FACTS, policies } from './render-tables.js';
import { syntheticTable } from './render-synthetic.js';

const LOCAL = { addresses: ['192.0.2.10'], arp: true, nd: false, dhcp: false };

/** nlmsg types in order. */
function types(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let o = 0; o < bytes.length; o += (bytes.readUInt32LE(o) + 3) & ~3) out.push(bytes.readUInt16LE(o + 4));
  return out;
}

describe('full apply over netlink', () => {
  it('the skeleton is a dormant scratch table without the large sets’ elements or the objects it declares itself', () => {
    const r = renderRuleset(syntheticTable(200, { features: true }), { ...FACTS, local: LOCAL }, { tableName: 'vcn' });
    const script = skeletonScript(r);
    expect(script).toContain(`table netdev ${scratchName('vcn')} {\n  flags dormant;`);
    expect(script).not.toMatch(/table netdev vcn\b/);
    // Row maps are declared, empty; the local-address interval set (which the encoder cannot carry) is filled by nft.
    expect(script).toMatch(/map v4_ddp_if_I0 \{/);
    expect(script).not.toMatch(/add element netdev \S+ v4_ddp_if_I0 /);
    expect(script).toMatch(/add element netdev \S+ local4 /);
    // 20 ACL counters and a rate limit, all declared by the transaction: none in the script.
    expect(ownObjects(r).length).toBe(r.objects.size);
    expect(script).not.toMatch(/counter acl\//);
    // The same skeleton for more services: the cached dump is reused.
    const bigger = renderRuleset(syntheticTable(400, { features: true }), { ...FACTS, local: LOCAL }, { tableName: 'vcn' });
    expect(skeletonScript(bigger)).toBe(script);
  });

  it('frames the transaction: table replaced, objects, then elements; a check leaves out BATCH_END', () => {
    const r = renderRuleset(policies(), FACTS, { tableName: 'vcn' });
    const empty = { objects: [], sets: [], elements: [], chains: [], rules: [] };
    const b = fullBatch(r, empty, { check: false });
    const t = types(b.bytes);
    expect(t.slice(0, 4)).toEqual([0x10, 0x0a00, 0x0a02, 0x0a00]);
    expect(t.at(-1)).toBe(0x11);
    expect(t.filter((x) => x === 0x0a12).length).toBe(ownObjects(r).length);
    expect(t.filter((x) => x === 0x0a0c).length).toBeGreaterThan(0);
    expect(b.elements).toBe([...r.sets.values()].filter((s) => s.name !== 'local4').reduce((n, s) => n + s.elements.size, 0));
    expect(types(fullBatch(r, empty, { check: true }).bytes).at(-1)).not.toBe(0x11);
  });

  it('new chains of a diff: a scratch script with only them and the sets and objects they name, no elements', () => {
    const r = renderRuleset(syntheticTable(200, { features: true }), { ...FACTS, local: LOCAL }, { tableName: 'vcn' });
    const nat = [...r.chains.values()].find((c) => c.rules.some((x) => x.includes('_nat')))!;
    const plain = [...r.chains.values()].find((c) => c.kind === 'action' && c !== nat && !c.rules.some((x) => x.includes(' map @')))!;
    const script = skeletonScript(r, [nat, plain]);
    expect(script).toContain(`table netdev ${scratchName('vcn')} {\n  flags dormant;`);
    const chains = [...script.matchAll(/chain (\w+) \{/g)].map((m) => m[1]);
    expect(chains).toEqual([nat.name, plain.name]);
    // Exactly the sets the two chains name, declared empty.
    const named = new Set([...`${nat.rules.join(' ')} ${plain.rules.join(' ')}`.matchAll(/@(\w+)(?![\w,])/g)].map((m) => m[1]));
    expect(new Set([...script.matchAll(/(?:map|set) (\w+) \{/g)].map((m) => m[1]))).toEqual(named);
    expect(script).not.toMatch(/add element/);
    expect(script).not.toMatch(/counter acl\//);
  });

  it('frames a diff with new chains: objects, chains, rules, element deletes and adds, chain and object deletes; a check ends in a message meant to fail', () => {
    const msg = (type: number, table: string, name: string): DumpedMessage => {
      const attr = (t: number, v: string) => {
        const b = Buffer.alloc((4 + v.length + 1 + 3) & ~3);
        b.writeUInt16LE(4 + v.length + 1, 0);
        b.writeUInt16LE(t, 2);
        b.write(v, 4);
        return b;
      };
      const buf = Buffer.concat([attr(1, table), attr(type === 3 ? 3 : 2, name)]);
      return { msg: type, buf, start: 0, end: buf.length } as DumpedMessage;
    };
    const scratch = scratchName('vcn');
    const skeleton = { objects: [], sets: [], elements: [], chains: [msg(3, scratch, 'a_new'), msg(3, scratch, 'm4')], rules: [msg(6, scratch, 'a_new'), msg(6, scratch, 'm4')] };
    const change = {
      addObjects: [{ type: 'counter' as const, name: 'acl/s1/10', spec: '' }],
      delObjects: [{ type: 'limit' as const, name: 'lim/s2', spec: 'rate 100/second burst 5 packets' }],
      add: ['a_new'],
      deletes: [],
      adds: [],
      del: ['a_old'],
    };
    // BEGIN, NEWOBJ, NEWCHAIN, NEWRULE, DELCHAIN, DELOBJ, END.
    const t = types(chainBatch('vcn', skeleton, change, false).bytes);
    expect(t).toEqual([0x10, 0x0a12, 0x0a03, 0x0a06, 0x0a05, 0x0a14, 0x11]);
    const check = chainBatch('vcn', skeleton, change, true);
    expect(types(check.bytes)).toEqual([0x10, 0x0a12, 0x0a03, 0x0a06, 0x0a05, 0x0a14, 0x0a02]);
    expect(check.sentinel).toBe(check.messages.at(-1)!.seq);
    // A chain nft did not build, or an anonymous set in a rule: left to nft.
    expect(() => chainBatch('vcn', skeleton, { ...change, add: ['a_missing'] }, false)).toThrow(BatchEncodeError);
    expect(() => chainBatch('vcn', { ...skeleton, sets: [msg(9, scratch, '__set0')] }, change, false)).toThrow(/anonymous set/);
    expect(() => chainBatch('vcn', skeleton, { ...change, addObjects: [{ type: 'limit', name: 'x', spec: 'rate over 1 mbytes/second' }] }, false)).toThrow(BatchEncodeError);
  });
});
