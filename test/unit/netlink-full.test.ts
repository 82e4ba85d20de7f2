/** The full apply's pure parts: the scratch skeleton script and the transaction's framing. (Against the kernel: test/integration/datapath-full-netlink.test.ts.) */
import { describe, expect, it } from 'vitest';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import { fullBatch, ownObjects, scratchName, skeletonScript } from '../../appliance/datapath/netlink-full.js';
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
});
