/**
 * The renderer's behaviour: hash lookups whatever the number of services,
 * shared action chains, per-service values in keyed maps, rewrites (NAT, port
 * translation, DSCP), copies, bridges, ranges, source keys, ACL blocks, and
 * the errors it gives instead of a ruleset nft would reject.
 */
import { describe, expect, it } from 'vitest';
import { macWrite, renderRuleset, RenderError } from '../../appliance/compile/render-nft.js';
import { aclBlocks } from '../../appliance/compile/render-acl.js';
import { formatAddress, formatSpan, parseSpan } from '../../appliance/compile/render-addr.js';
import type { RenderedRuleset } from '../../appliance/compile/render-model.js';
import { rowElements } from '../../appliance/compile/render-model.js';
import type { SequenceTable } from '../../appliance/compile/sequence-table.js';
import { bridgeIds, destLoopback, everything, FACTS, IPV6_FACTS, ipv6Nat, M, natTranslate, policies, policy, portRange, row, S1, sourceKeyed, W1 } from './render-tables.js';
import { syntheticFacts, syntheticTable } from './render-synthetic.js';

const render = (t: SequenceTable, facts = FACTS) => renderRuleset(t, facts, { tableName: 'vcn' });
const chain = (r: RenderedRuleset, name: string) => r.chains.get(name)!.rules;
const elements = (r: RenderedRuleset, map: string) => [...(r.sets.get(map)?.elements ?? [])];
/** The rules a row's key leads to: row map → action id → act map → chain. */
const actionOf = (r: RenderedRuleset, map: string, key: string) => {
  const data = r.sets.get(map)!.elements.get(key)!;
  // A direct map holds the verdict itself, an indirect one an action id looked up in act.
  const verdict = data.startsWith('goto ') ? data : r.sets.get('act')!.elements.get(data)!;
  return chain(r, verdict.replace('goto ', ''));
};

describe('lookups scale by elements, not rules', () => {
  it('80 and 2000 services give the same chains and rules; only map elements grow', () => {
    // The synthetic mix (server, protocol, NAT, DSCP, limit, ACL) repeats every 80 services.
    const small = render(syntheticTable(80, { features: true }), syntheticFacts());
    const big = render(syntheticTable(2000, { features: true }), syntheticFacts());
    const rulesOf = (r: RenderedRuleset) => [...r.chains.values()].map((c) => `${c.name}: ${c.rules.join(' | ')}`).sort();
    expect(rulesOf(big)).toEqual(rulesOf(small));
    expect(big.stats.elements).toBeGreaterThan(small.stats.elements * 20);
    expect(big.stats.maxRulesPerPass).toBe(small.stats.maxRulesPerPass);
  });

  it('no dispatch or hook rule names an address or a port of a service', () => {
    const r = render(everything(), IPV6_FACTS);
    for (const c of r.chains.values()) {
      if (c.kind === 'action') continue;
      for (const rule of c.rules) expect(rule).not.toMatch(/\d+\.\d+\.\d+\.\d+|::|\bdport \d/);
    }
  });

  it('keeps a packet to at most 10 rules per pass with every feature in one table', () => {
    expect(render(everything(), IPV6_FACTS).stats.maxRulesPerPass).toBeLessThanOrEqual(10);
  });

  it('orders lookups: destination keys before source keys, exact before ranges, MAC lookups behind the sender map', () => {
    const r = render(everything(), IPV6_FACTS);
    const lookup = (key: string, map: string) => `meta mark set ${key} map @${map} meta mark vmap @act`;
    // Exact keys without MAC: the direct map (verdicts), then its overflow (rows a diff added, by action id).
    const direct = (key: string, map: string) => [`${key} vmap @${map}`, lookup(key, `${map}_o`)];
    // The IPv4 lookups sit in the hook chains (no dispatch rule and goto in front of them), each looking up the
    // maps of the rows that arrive on its interface (keys without the interface name); with IPv6 services in the
    // table, the IPv6 goto comes first. Interfaces where devices send have the MAC dispatch before the lookups.
    // Source-keyed prefixes (one field left without the interface) stay in shared maps keyed by iifname.
    const shared = [lookup('iifname . ip daddr', 'v4_d_r'), lookup('iifname . ip saddr', 'v4_s_r')];
    expect(chain(r, 'in_I0')).toEqual([
      'meta protocol ip6 goto p6',
      'meta protocol ip iifname . ether saddr vmap @snd4',
      ...direct('ip daddr . th dport', 'v4_ddp_if_I0'),
      lookup('ip daddr . th dport', 'v4_ddp_r_if_I0'),
      ...shared,
    ]);
    expect(chain(r, 'in_I1')).toEqual([
      'meta protocol ip6 goto s6',
      'meta protocol ip iifname . ether saddr vmap @snd4',
      ...direct('ip saddr . th sport', 'v4_ssp_if_I1'),
      ...shared,
    ]);
    expect(chain(r, 'in_I2')).toEqual(['meta protocol ip6 goto p6', ...direct('ip daddr . th dport', 'v4_ddp_if_I2'), ...shared]);
    expect(chain(r, 'in_I3')).toEqual(['meta protocol ip6 goto p6', 'meta protocol ip iifname . ether saddr vmap @snd4', ...shared]);
    expect(r.chains.has('p4') || r.chains.has('s4')).toBe(false);
    expect(chain(r, 'm4')).toEqual([
      lookup('iifname . ether saddr . ip daddr . th dport', 'v4_mddp'),
      lookup('iifname . ether saddr . ip saddr . th sport', 'v4_mssp'),
      lookup('iifname . ether saddr . ip daddr . th dport', 'v4_mddp_r'),
      lookup('iifname . ether saddr . ip saddr . th sport', 'v4_mssp_r'),
      lookup('iifname . ether saddr . ip daddr', 'v4_md_r'),
      lookup('iifname . ether saddr . ip saddr', 'v4_ms_r'),
    ]);
    // Only where devices send does a packet pay for the MAC dispatch: I2 has no IPv4 or IPv6 device
    // MACs, I0 and I3 IPv4 ones, I1 both.
    expect(chain(r, 's6')[0]).toBe('iifname . ether saddr vmap @snd6');
    expect(r.chains.get('in_I0')).toMatchObject({ kind: 'hook', device: 'I0' });
  });

  it('shares action chains between services that do the same thing', () => {
    const r = render(syntheticTable(400), syntheticFacts());
    // 400 services × 4 rows; the chains depend on next hop, protocol and NAT only.
    expect(r.stats.rows).toBe(1600);
    expect(r.stats.actionChains).toBeLessThan(40);
  });
});

describe('actions', () => {
  it('loopback: the MAC rewrite only, source MAC of the egress port, then fwd', () => {
    const r = render(destLoopback());
    expect(actionOf(r, 'v4_ddp_if_I0', `${W1} . 80`)).toEqual([
      `meta l4proto tcp ${macWrite(M.S1, FACTS.interfaceMacs.I1)} fwd to "I1"`,
      'drop',
    ]);
  });

  it('NAT and port translation: addresses from maps keyed like the row, ports per protocol (L4 checksums)', () => {
    const r = render(natTranslate());
    expect(actionOf(r, 'v4_ddp_if_I0', `${W1} . 80`)).toEqual([
      `meta l4proto tcp ip daddr set ip daddr . th dport map @v4_ddp_if_I0_nat tcp dport set 8080 ${macWrite(M.S1, FACTS.interfaceMacs.I1)} fwd to "I1"`,
      `meta l4proto udp ip daddr set ip daddr . th dport map @v4_ddp_if_I0_nat udp dport set 8080 ${macWrite(M.S1, FACTS.interfaceMacs.I1)} fwd to "I1"`,
      'drop',
    ]);
    expect(elements(r, 'v4_ddp_if_I0_nat')).toEqual([[`${W1} . 80`, S1]]);
    expect(actionOf(r, 'v4_mssp', `"I1" . ${M.S1} . ${S1} . 8080`)[0]).toBe(
      `meta l4proto tcp ip saddr set iifname . ip saddr . th sport map @v4_ssp_nat tcp sport set 80 ${macWrite(M.GW, FACTS.interfaceMacs.I0)} fwd to "I0"`,
    );
    expect(elements(r, 'v4_ssp_nat')).toEqual([[`"I1" . ${S1} . 8080`, W1]]);
  });

  it('NAT services on their own servers still share one chain per next hop', () => {
    const r = render(syntheticTable(40), syntheticFacts());
    // s3 and s19 both NAT (k % 4 = 3) to their own server IPs behind server 3 (k % 16 = 3).
    const verdict = (id: string) => {
      const e = r.rows.get(id)!;
      return r.sets.get(e.map)!.elements.get(e.key);
    };
    expect(verdict('s3/80/f1')).toBe(verdict('s19/80/f1'));
    expect(verdict('s3/80/r2')).toBe(verdict('s19/80/r2'));
    expect(r.sets.get('v4_ddp_nat')!.elements.get('"I2" . 10.100.0.19 . 80')).toBe('10.200.0.19');
    expect(r.sets.get('v4_ssp_nat')!.elements.get('"I3" . 10.200.0.19 . 80')).toBe('10.100.0.19');
    expect(r.sets.get('v4_ddp_nat')!.elements.size).toBe(10);
  });

  it('copies: the tap gets the packet as it came, then the main send is rewritten and forwarded', () => {
    const r = render(bridgeIds());
    const [rule] = actionOf(r, 'v4_ddp_if_I2', `${W1} . 80`);
    expect(rule).toBe(
      `meta l4proto @l4_tcp_udp ${macWrite(M.IDS, FACTS.interfaceMacs.I1)} dup to "I1" ` +
        `${macWrite(M.S1, FACTS.interfaceMacs.I3)} fwd to "I3"`,
    );
  });

  it('a bridge leg without a MAC is sent to the engine port on the far side of the bridge', () => {
    const r = render(bridgeIds());
    expect(actionOf(r, 'v4_ddp_if_I0', `${W1} . 80`)[0]).toContain(`${macWrite(FACTS.interfaceMacs.I2, FACTS.interfaceMacs.I1)} fwd to "I1"`);
    expect(actionOf(r, 'v4_mssp', `"I3" . ${M.S1} . ${W1} . 80`)[0]).toContain(`${macWrite(FACTS.interfaceMacs.I1, FACTS.interfaceMacs.I2)} fwd to "I2"`);
  });

  it('DSCP and the rate limit: set on the service rows, the limit object looked up by the row key', () => {
    const r = render(policies());
    expect(actionOf(r, 'v4_ddp_if_I0', `203.0.113.2 . 80`)[0]).toContain('ip dscp set 46 ');
    expect(actionOf(r, 'v4_mssp', `"I1" . ${M.S1} . 203.0.113.2 . 80`)[0]).toContain('ip dscp set 46 ');
    expect(actionOf(r, 'v4_ddp_if_I0', `203.0.113.3 . 80`)[0]).toMatch(/^meta l4proto tcp limit name ip daddr \. th dport map @v4_ddp_if_I0_lim /);
    expect(r.objects.get('limit lim/limited/1000/50')).toEqual({ type: 'limit', name: 'lim/limited/1000/50', spec: 'rate 1000/second burst 50 packets' });
    expect(elements(r, 'v4_ddp_if_I0_lim')).toEqual([['203.0.113.3 . 80', '"lim/limited/1000/50"']]);
  });

  it('IPv6: ip6 statements and the next hop MAC from the neighbour facts', () => {
    const r = render(ipv6Nat(), IPV6_FACTS);
    expect(actionOf(r, 'v6_mssp', `"I1" . ${M.S1} . 2001:db8:1::10 . 80`)[0]).toBe(
      `meta l4proto udp ip6 saddr set iifname . ip6 saddr . th sport map @v6_ssp_nat ${macWrite('02:00:00:00:00:f6', FACTS.interfaceMacs.I0)} fwd to "I0"`,
    );
  });

  it('an unresolved next hop renders the row as a counted drop and says so', () => {
    const r = render(ipv6Nat(), FACTS);
    expect(r.unresolved).toEqual([{ row: 'v6/80/out', service: 'v6', interface: 'I1', reason: 'next hop 2001:db8:ffff::1 on I0 is not resolved' }]);
    expect(r.sets.get('v6_mssp')!.elements.get(`"I1" . ${M.S1} . 2001:db8:1::10 . 80`)).toBe('0x00000001');
    expect(r.sets.get('act')!.elements.get('0x00000001')).toBe('drop');
  });
});

describe('keys', () => {
  it('a port outside its dynamic range gets an exact key and a range key; both count for the row', () => {
    const r = render(portRange());
    expect(rowElements(r.rows.get('ftp/21/in')!)).toEqual([
      { map: 'v4_ddp_if_I0', key: `${W1} . 21` },
      { map: 'v4_ddp_r_if_I0', key: `${W1} . 1025-1125` },
    ]);
    const inside = portRange();
    for (const x of inside.rows) if (x.receive.port) x.receive.port = { port: x.receive.port.port, range: { low: x.receive.port.port, high: x.receive.port.port + 50 } };
    expect(rowElements(render(inside).rows.get('ftp/21/in')!)).toEqual([{ map: 'v4_ddp_r_if_I0', key: `${W1} . 21-71` }]);
  });

  it('source-keyed rows are keyed by the client prefix, in interval maps', () => {
    const r = render(sourceKeyed());
    expect(elements(r, 'v4_ms_r').map(([k]) => k)).toEqual([`"I0" . ${M.ACC} . 100.64.10.0/24`]);
    expect(elements(r, 'v4_d_r').map(([k]) => k)).toEqual(['"I1" . 100.64.10.0/24']);
    expect([...r.rows.values()].map((x) => `${x.id} ${x.role}`)).toEqual(['isp/-/in in', 'isp/-/f1 hop', 'isp/-/r-1 hop', 'isp/-/out out']);
  });

  it('row ids name the role; a repeated step gets a suffix', () => {
    expect([...render(bridgeIds()).rows.keys()]).toEqual(['shop/80/in', 'shop/80/f1', 'shop/80/f2', 'shop/80/r2', 'shop/80/out']);
    const t = bridgeIds();
    t.rows.splice(3, 0, { ...t.rows[2], receive: { ...t.rows[2].receive, srcMac: '02:00:00:00:0d:02' } });
    expect([...render(t).rows.keys()]).toContain('shop/80/f2.1');
  });

  it('senders: every device MAC that keys a row, per family', () => {
    expect(elements(render(bridgeIds()), 'snd4')).toEqual([
      [`"I1" . ${M.IDS}`, 'jump m4'],
      [`"I3" . ${M.S1}`, 'jump m4'],
    ]);
  });

  it('accepts the engine’s own traffic first: local addresses, ARP, neighbour discovery', () => {
    const r = render(destLoopback(), { ...FACTS, local: { addresses: ['192.0.2.10/24', '2001:db8::a'], arp: true, nd: true } });
    expect(chain(r, 'p6')[0]).toBe('ip6 daddr @local6 accept');
    expect([...r.sets.get('local6')!.elements.keys()]).toEqual(['2001:db8::a', 'fe80::/10', 'ff02::/16']);
    // No IPv6 service: the IPv4 rules first, in the hook chain, then IPv6 and ARP.
    expect(chain(r, 'in_I0')).toEqual([
      'ip daddr @local4 accept',
      'ip daddr . th dport vmap @v4_ddp_if_I0',
      'meta mark set ip daddr . th dport map @v4_ddp_if_I0_o meta mark vmap @act',
      'meta protocol ip6 goto p6',
      'meta protocol arp accept',
    ]);
  });

  it('hooks every interface a row receives on, plus the ones the facts name', () => {
    const r = render(destLoopback(), { ...FACTS, interfaces: ['I3'] });
    expect([...r.chains.values()].filter((c) => c.kind === 'hook').map((c) => c.device)).toEqual(['I0', 'I1', 'I3']);
  });
});

describe('errors instead of a ruleset the kernel would reject or misread', () => {
  it('two rows with one key and different actions', () => {
    const t = destLoopback();
    t.rows.push({ ...t.rows[0], servicePort: 81, sends: [{ ...t.rows[0].sends[0], mac: M.S2 }] });
    expect(() => render(t)).toThrow(RenderError);
    expect(() => render(t)).toThrow(/web\/81\/in and web\/80\/in share the key 203\.0\.113\.1 \. 80 in v4_ddp_if_I0/);
  });

  it('overlapping ranges in one interval map', () => {
    const t = portRange();
    t.rows[4].receive.port = { port: 2000, range: { low: 1100, high: 1300 } };
    expect(() => render(t)).toThrow(/overlap in v4_ddp_r_if_I0/);
  });

  it('a missing interface MAC', () => {
    expect(() => render(destLoopback(), { interfaceMacs: { I0: '02:ee:00:00:00:00' } })).toThrow(/MAC of engine interface I1 is not known/);
  });

  it('translating a dynamic range', () => {
    const t = portRange();
    t.rows[1].sends[0].port = 8021;
    expect(() => render(t)).toThrow(/dynamic port range cannot be translated/);
  });

  it('a row of a service without a policy, an address of the wrong family', () => {
    expect(() => render({ rows: destLoopback().rows, services: [] })).toThrow(/has no policy/);
    const t = natTranslate();
    t.rows[0].receive.dstIp = '2001:db8::1';
    expect(() => render(t)).toThrow(/is not IPv4/);
  });

  it('a bad table name', () => {
    expect(() => renderRuleset(destLoopback(), FACTS, { tableName: 'no such' })).toThrow(/bad table name/);
  });
});

describe('ACL blocks (Fig 13)', () => {
  const p = (rules: { seq: number; action: 'permit' | 'deny'; source: string; count: boolean }[], defaultAction: 'permit' | 'deny') =>
    policy('svc', W1, [{ port: 80 }], { acl: { defaultAction, rules } });
  const all = parseSpan('0.0.0.0/0');
  const text = (p2: ReturnType<typeof p>) => aclBlocks(p2, all).map((b) => `${formatSpan({ family: 4, lo: b.lo, hi: b.hi })} ${b.action} ${b.counter ?? '-'}`);

  it('the first rule decides; shadowed rules vanish; permitted uncounted blocks need no element', () => {
    const blocks = text(
      p(
        [
          { seq: 10, action: 'deny', source: '10.1.0.0/16', count: false },
          { seq: 20, action: 'permit', source: '10.0.0.0/8', count: true },
          { seq: 30, action: 'deny', source: '10.2.0.0/16', count: true },
        ],
        'permit',
      ),
    );
    expect(blocks).toEqual(['10.0.0.0/16 permit acl/svc/20', '10.1.0.0/16 deny acl/svc/deny', '10.2.0.0-10.255.255.255 permit acl/svc/20']);
  });

  it('default deny covers everything no permit names', () => {
    expect(text(p([{ seq: 1, action: 'permit', source: '192.0.2.0/24', count: false }], 'deny'))).toEqual([
      '0.0.0.0-192.0.1.255 deny acl/svc/deny',
      '192.0.3.0-255.255.255.255 deny acl/svc/deny',
    ]);
  });

  it('rules are taken in seq order, not list order', () => {
    expect(
      text(
        p(
          [
            { seq: 20, action: 'permit', source: '10.0.0.0/8', count: false },
            { seq: 10, action: 'deny', source: '10.0.0.0/8', count: false },
          ],
          'permit',
        ),
      ),
    ).toEqual(['10.0.0.0/8 deny acl/svc/deny']);
  });

  it('source-keyed services cut their ACL to their own prefix (no overlap with other customers)', () => {
    const sk = { ...p([{ seq: 1, action: 'deny', source: '100.64.10.128/25', count: true }], 'permit'), keyedBy: 'source' as const, address: '100.64.10.0/24' };
    expect(aclBlocks(sk, parseSpan('100.64.10.0/24')).map((b) => formatSpan({ family: 4, lo: b.lo, hi: b.hi }))).toEqual(['100.64.10.128/25']);
  });
});

describe('address text as nft prints it', () => {
  it('IPv6 compression, prefixes, ranges', () => {
    expect(formatAddress(parseSpan('2001:0db8:0000:0000:0000:0000:0000:0001').lo, 6)).toBe('2001:db8::1');
    expect(formatAddress(parseSpan('2001:db8:0:1:0:0:0:1').lo, 6)).toBe('2001:db8:0:1::1');
    expect(formatAddress(parseSpan('::').lo, 6)).toBe('::');
    expect(formatSpan(parseSpan('10.1.2.3/8'))).toBe('10.0.0.0/8');
    expect(formatSpan(parseSpan('10.1.2.3/32'))).toBe('10.1.2.3');
    expect(formatSpan({ family: 4, lo: parseSpan('10.0.0.1').lo, hi: parseSpan('10.0.0.5').lo })).toBe('10.0.0.1-10.0.0.5');
  });

  it('renders canonical text whatever the table spelled', () => {
    const t = ipv6Nat();
    t.rows[0].receive.dstIp = '2001:0DB8:0:0::100';
    t.rows[0].sends[0].mac = '02:00:00:00:0A:01';
    const r = render(t, IPV6_FACTS);
    expect(elements(r, 'v6_ddp').map(([k]) => k)).toEqual(['"I0" . 2001:db8::100 . 80']);
  });
});

describe('hand-built table helpers', () => {
  it('row() follows the contract', () => {
    expect(row('x', 1, { from: 0, origin: 'client', iface: 'I0', dir: 'forward', sends: [] }).receive.protocol).toBe('any');
  });
});
