/**
 * Counters read back: nft's JSON and text output (as nft 1.0.6 prints them)
 * brought to the renderer's keys and attributed to rows, ACL rules and
 * service ports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNetlinkDump } from '../../appliance/datapath/netlink-counters.js';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import { countersFromElementText, countersFromJson, keyFromJson, snapshotCounters } from '../../appliance/datapath/counters.js';
import { DryDriver } from '../../appliance/datapath/dry-driver.js';
import { everything, IPV6_FACTS, portRange, FACTS, policies, W1, M } from './render-tables.js';

/** Trimmed `nft -j list table netdev vcn` output of the port-range and policies tables. */
function kernelJson(): unknown {
  const el = (concat: unknown[], packets: number, bytes: number, target = 'a_1') => [{ elem: { val: { concat }, counter: { packets, bytes } } }, { goto: { target } }];
  return {
    nftables: [
      { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
      { table: { family: 'netdev', name: 'vcn', handle: 7 } },
      { counter: { family: 'netdev', name: 'acl/guarded/10', table: 'vcn', handle: 30, packets: 4, bytes: 240 } },
      { counter: { family: 'netdev', name: 'acl/guarded/deny', table: 'vcn', handle: 31, packets: 2, bytes: 120 } },
      {
        map: {
          family: 'netdev',
          name: 'v4_ddp_if_I0',
          table: 'vcn',
          type: ['ipv4_addr', 'inet_service'],
          handle: 40,
          map: 'verdict',
          elem: [el([W1, 21], 3, 180), el(['203.0.113.2', 80], 10, 1000)],
          stmt: [{ counter: null }],
        },
      },
      {
        map: {
          family: 'netdev',
          name: 'v4_ddp_r_if_I0',
          table: 'vcn',
          type: ['ipv4_addr', 'inet_service'],
          handle: 41,
          map: 'verdict',
          flags: ['interval'],
          elem: [el([W1, { range: [1025, 1125] }], 5, 500)],
          stmt: [{ counter: null }],
        },
      },
      {
        map: {
          family: 'netdev',
          name: 'v4_mssp',
          table: 'vcn',
          type: ['ifname', 'ether_addr', 'ipv4_addr', 'inet_service'],
          handle: 42,
          map: 'verdict',
          elem: [el(['I1', M.S1, '203.0.113.2', 80], 9, 2000)],
          stmt: [{ counter: null }],
        },
      },
      {
        map: {
          family: 'netdev',
          name: 'acl4_cnt',
          table: 'vcn',
          type: ['ifname', 'ipv4_addr', 'inet_service', 'ipv4_addr'],
          handle: 43,
          map: 'counter',
          flags: ['interval'],
          elem: [[{ concat: ['I0', W1, 80, { prefix: { addr: '192.0.2.0', len: 24 } }] }, 'acl/guarded/10']],
        },
      },
    ],
  };
}

describe('counters', () => {
  it('JSON keys come back in the renderer’s canonical text: prefixes, ranges, IPv6, MACs', () => {
    expect(keyFromJson('ifname . ipv4_addr . inet_service', { concat: ['I0', '10.0.0.1', { range: [1025, 1125] }] })).toBe('"I0" . 10.0.0.1 . 1025-1125');
    expect(keyFromJson('ifname . ether_addr . ipv4_addr', { concat: ['I0', '02:00:00:00:AC:01', { prefix: { addr: '100.64.10.0', len: 24 } }] })).toBe(
      '"I0" . 02:00:00:00:ac:01 . 100.64.10.0/24',
    );
    expect(keyFromJson('ifname . ipv4_addr', { concat: ['I0', { range: ['10.0.0.0', '10.0.0.255'] }] })).toBe('"I0" . 10.0.0.0/24');
    expect(keyFromJson('ifname . ipv6_addr . inet_service', { concat: ['I0', '2001:db8::100', 80] })).toBe('"I0" . 2001:db8::100 . 80');
    expect(keyFromJson('ipv4_addr', '10.0.0.1')).toBe('10.0.0.1');
  });

  it('rows sum their elements (a port and its dynamic range); service ports sum in and out rows', () => {
    const model = renderRuleset({ rows: [...portRange().rows, ...policies().rows], services: [...portRange().services, ...policies().services] }, FACTS, { tableName: 'vcn' });
    const snap = snapshotCounters(model, countersFromJson(kernelJson(), model));
    expect(snap.rows.get('ftp/21/in')).toEqual({ packets: 8, bytes: 680 });
    expect(snap.rows.get('ftp/21/out')).toEqual({ packets: 0, bytes: 0 });
    expect(snap.servicePorts.get('marked/80')).toEqual({ service: 'marked', servicePort: 80, in: { packets: 10, bytes: 1000 }, out: { packets: 9, bytes: 2000 } });
    expect(snap.acl.get('acl/guarded/10')).toEqual({ packets: 4, bytes: 240 });
    expect(snap.acl.get('acl/guarded/deny')).toEqual({ packets: 2, bytes: 120 });
  });

  it('parses the text `nft get element` prints (nft 1.0.6 ignores -j there)', () => {
    const text = `table netdev vcn {
\tmap v4_mddp_r {
\t\ttype ifname . ether_addr . ipv4_addr . inet_service : verdict
\t\tflags interval
\t\telements = { "I1" . 02:00:00:00:0f:00 . 198.18.3.1 . 1025-1125 counter packets 3 bytes 180 : goto a_02cb5f2af78972,
\t\t\t     "I1" . 02:00:00:00:0f:00 . 198.18.3.0/24 . 80 counter packets 0 bytes 0 : goto a_1 }
\t}
}
`;
    const got = countersFromElementText(text, { keyType: 'ifname . ether_addr . ipv4_addr . inet_service' });
    expect([...got]).toEqual([
      ['"I1" . 02:00:00:00:0f:00 . 198.18.3.1 . 1025-1125', { packets: 3, bytes: 180 }],
      ['"I1" . 02:00:00:00:0f:00 . 198.18.3.0/24 . 80', { packets: 0, bytes: 0 }],
    ]);
  });

  it('parses a raw netlink dump (captured from nft 1.0.6 / Linux 6.18 with everything.nft loaded) into the same keys', () => {
    const model = renderRuleset(everything(), IPV6_FACTS, { tableName: 'vcn' });
    const dump = readFileSync(join(import.meta.dirname, '..', 'golden', 'render', 'everything.netlink.bin'));
    const k = parseNetlinkDump(dump, model.sets);
    for (const s of model.sets.values()) {
      if (!s.counter) continue;
      expect([...k.elements.get(s.name)!.keys()].sort(), s.name).toEqual([...s.elements.keys()].sort());
    }
    expect([...k.objects.keys()].sort()).toEqual(['acl/guarded/10', 'acl/guarded/deny']);
    const snap = snapshotCounters(model, k);
    expect(snap.rows.size).toBe(model.rows.size);
  });

  it('the dry datapath reads counters through the same path (zeros when nft answers an empty table)', async () => {
    const dp = new DryDriver();
    await expect(dp.readCounters()).rejects.toThrow(/no ruleset has been applied/);
    const model = renderRuleset(everything(), IPV6_FACTS, { tableName: 'vcn' });
    await dp.apply(model, { carryCounters: false });
    const snap = await dp.readCounters();
    expect(snap.rows.size).toBe(model.rows.size);
    expect([...snap.rows.values()].every((v) => v.packets === 0 && v.bytes === 0)).toBe(true);
    dp.dry.answers.set('-j list table netdev vcn', JSON.stringify(kernelJson()));
    expect((await dp.listRuleset()) as object).toHaveProperty('nftables');
  });
});
