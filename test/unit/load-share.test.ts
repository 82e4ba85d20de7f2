/** Load sharing over a pool: buckets, symmetry of the two directions, failed members, rules per pass. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../appliance/compile/compile.js';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import { loadFixture } from '../helpers/config.js';
import { deviceLegsOf, type DataplaneFacts } from '../../appliance/compile/render-facts.js';
import type { Config } from '../../appliance/model/config.generated.js';

const fixture = (name: string) => loadFixture(join(import.meta.dirname, '../golden/compile', name));

/** Engine interface MACs as in the render goldens: 02:ee:00:00:00:<n> in interface order. */
function fixtureFacts(config: Config): DataplaneFacts {
  const interfaceMacs: Record<string, string> = {};
  config.interfaces.interface.forEach((i, n) => (interfaceMacs[i.name] = `02:ee:00:00:00:${n.toString(16).padStart(2, '0')}`));
  return { interfaceMacs, deviceLegs: deviceLegsOf(config) };
}

describe('load sharing', () => {
  it('forward rows hash the source, reverse rows the destination, over the same buckets', () => {
    const table = compile(fixture('share-fw-servers.json'));
    const shared = table.rows.filter((r) => r.share);
    expect(shared.length).toBe(6);
    for (const r of shared) {
      expect(r.share!.by).toBe(r.receive.direction === 'forward' ? 'saddr' : 'daddr');
      expect(r.share!.buckets).toHaveLength(2);
    }
    const toFw = shared.filter((r) => r.share!.members.some((m) => m.device === 'F1'));
    expect(new Set(toFw.map((r) => r.share!.buckets.join(',')))).toEqual(new Set(['F1,F2']));
    expect(table.services[0].resolved).toEqual({ '80/1': 'F1,F2', '80/2': 'S1,S2' });
  });

  it('a failed member leaves the share; one survivor means plain rows', () => {
    const config = fixture('share-maintenance.json');
    config.devices.device[1]['admin-state'] = 'in-service';
    const all = compile(config).rows[0].share!;
    expect(all.buckets).toEqual(['S1', 'S2', 'S3', 'S1', 'S2', 'S3']);
    const failed = compile(config, { failed: new Set(['S3']) }).rows[0].share!;
    // Only S3's buckets move; S1 and S2 keep theirs.
    expect(failed.buckets).toEqual(['S1', 'S2', 'S1', 'S1', 'S2', 'S2']);
    expect(failed.members.map((m) => m.device)).toEqual(['S1', 'S2']);
    const one = compile(config, { failed: new Set(['S2', 'S3']) });
    expect(one.rows.every((r) => !r.share)).toBe(true);
    expect(one.rows[0].sends[0].device).toBe('S1');
  });

  it('renders one hashing rule per shared row with a counter per member, within 10 rules per pass', () => {
    const config = fixture('share-fw-servers.json');
    const r = renderRuleset(compile(config), fixtureFacts(config), { tableName: 'vcn' });
    expect(r.stats.maxRulesPerPass).toBeLessThanOrEqual(10);
    const hashing = [...r.chains.values()].filter((c) => c.rules[0]?.startsWith('counter name jhash'));
    expect(hashing).toHaveLength(6);
    // Forward and reverse rows toward one pool hash with that pool's seed; the two pools' seeds differ.
    const seedOf = (pool: string) => compile(config).rows.find((row) => row.share?.members[0].device === pool)!.share!.seed;
    expect(seedOf('F1')).not.toBe(seedOf('S1'));
    const toFw = hashing.filter((c) => c.rules[0].includes('/F1"'));
    expect(toFw.length).toBe(3);
    for (const c of toFw) expect(c.rules[0]).toContain(`seed 0x${seedOf('F1').toString(16).padStart(8, '0')}`);
    expect([...r.shareCounters.values()].filter((c) => c.row === 'W1/80/in').map((c) => c.device)).toEqual(['F1', 'F2']);
    // Members that rewrite to their own address do it literally, not via the row-keyed NAT map.
    expect([...r.sets.keys()].some((n) => n.endsWith('_nat'))).toBe(false);
    const after = renderRuleset(compile(config, { failed: new Set(['F2']) }), fixtureFacts(config), { tableName: 'vcn' });
    expect([...after.shareCounters.values()].some((c) => c.device === 'F2')).toBe(false);
    expect(after.rows.get('W1/80/in')!.devices).toEqual(['F1']);
  });
});
