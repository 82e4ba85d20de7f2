/**
 * Full apply as one netlink transaction (netlink-full.ts) on the real kernel,
 * in a namespace of our own: every golden ruleset (hand-built tables and the
 * compiler's figure fixtures: ACLs, rate limits, DSCP, IPv6, NAT, load
 * sharing, local-address interval sets) and a synthetic 2000-service table
 * list exactly as they do after `nft -f` of the rendered script; a ruleset
 * nft rejects, and one only the kernel rejects, leave the old table as it was
 * and no scratch table behind.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../appliance/compile/compile.js';
import { deviceLegsOf, type DataplaneFacts } from '../../appliance/compile/render-facts.js';
import type { RenderedRuleset } from '../../appliance/compile/render-model.js';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import type { SequenceTable } from '../../appliance/compile/sequence-table.js';
import { DatapathError } from '../../appliance/datapath/datapath.js';
import { NftDriver } from '../../appliance/datapath/nft-driver.js';
import { loadFixture } from '../helpers/config.js';
import { bridgeIds, destLoopback, everything, FACTS, IPV6_FACTS, ipv6Nat, natTranslate, policies, portRange, sourceKeyed } from '../unit/render-tables.js';
import { syntheticTable } from '../unit/render-synthetic.js';
import { MiniNet } from './helpers/netns-mini.js';
import { requireRoot } from './helpers/root.js';

const net = new MiniNet();
let ns: string;
let viaNft: NftDriver;
let viaNetlink: NftDriver;

const LOCAL = { addresses: ['192.0.2.10', '2001:db8::10'], arp: true, nd: true, dhcp: true };

/** Every golden case: hand-built tables, compiler fixtures, and a synthetic table with every feature. */
function cases(): [string, RenderedRuleset][] {
  const out: [string, RenderedRuleset][] = [];
  const tables: Record<string, [() => SequenceTable, DataplaneFacts]> = {
    'dest-loopback': [destLoopback, FACTS],
    'nat-translate': [natTranslate, FACTS],
    'bridge-ids': [bridgeIds, FACTS],
    'port-range': [portRange, FACTS],
    'ipv6-nat': [ipv6Nat, IPV6_FACTS],
    'source-keyed': [sourceKeyed, FACTS],
    'acl-dscp-limit': [policies, FACTS],
    everything: [everything, { ...IPV6_FACTS, local: LOCAL }],
  };
  for (const [name, [table, facts]] of Object.entries(tables)) out.push([name, renderRuleset(table(), facts, { tableName: 'vcn' })]);
  const dir = join(import.meta.dirname, '..', 'golden', 'compile');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const config = loadFixture(join(dir, file));
    const interfaceMacs: Record<string, string> = {};
    config.interfaces.interface.forEach((i, n) => (interfaceMacs[i.name] = `02:ee:00:00:00:${n.toString(16).padStart(2, '0')}`));
    out.push([file, renderRuleset(compile(config), { interfaceMacs, deviceLegs: deviceLegsOf(config), local: LOCAL }, { tableName: 'vcn' })]);
  }
  const ifs = { up: 'I0', fw0: 'I1', fw1: 'I2', srv: 'I3' };
  out.push(['synthetic 2000', renderRuleset(syntheticTable(2000, { ifs, features: true }), { ...FACTS, local: LOCAL }, { tableName: 'vcn' })]);
  return out;
}

const nft = async (args: string[]) => (await net.exec(ns, ['nft', ...args], { timeoutMs: 60_000 })).stdout;
const listing = () => nft(['list', 'table', 'netdev', 'vcn']);
const tables = () => nft(['list', 'tables']);

beforeAll(async () => {
  requireRoot();
  try {
    ns = await net.addNs('full');
    const peer = await net.addNs('fpeer');
    // The golden tables name interfaces I0..I3 (and the fixtures P1, P2 …): make every one they use.
    const names = new Set<string>(['I0', 'I1', 'I2', 'I3']);
    for (const [, r] of cases()) for (const c of r.chains.values()) if (c.device) names.add(c.device);
    let i = 0;
    for (const name of names) {
      await net.veth({ ns, name, mac: `02:ee:00:00:00:${i.toString(16).padStart(2, '0')}` }, { ns: peer, name: net.ifname(`q${i}`), mac: `02:ee:00:00:01:${i.toString(16).padStart(2, '0')}` });
      i++;
    }
    viaNft = new NftDriver({ netns: ns, netlinkFull: false });
    viaNetlink = new NftDriver({ netns: ns });
  } catch (e) {
    await net.cleanup();
    throw e;
  }
}, 120_000);

afterAll(async () => {
  viaNetlink?.close();
  viaNft?.close();
  await net.cleanup();
}, 60_000);

describe('full apply over netlink', () => {
  it('every golden ruleset lists exactly as after nft -f of its script', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThan(20);
    for (const [name, r] of all) {
      const a = await viaNft.apply(r, { full: true, carryCounters: false });
      expect(a.via, name).toBe('nft');
      const byNft = await listing();
      const b = await viaNetlink.apply(r, { full: true, carryCounters: false });
      expect(b.via, `${name}: ${b.fallback ?? ''}`).toBe('netlink');
      expect(await listing(), name).toBe(byNft);
      expect(await tables(), name).not.toMatch(/vcn__next/);
    }
    expect(viaNetlink.fullFallback()).toBeUndefined();
  }, 600_000);

  it('a check validates the whole transaction and changes nothing', async () => {
    const [, r] = cases().find(([n]) => n === 'synthetic 2000')!;
    const before = await listing();
    const other = renderRuleset(syntheticTable(50, { ifs: { up: 'I0', fw0: 'I1', fw1: 'I2', srv: 'I3' }, features: true }), FACTS, { tableName: 'vcn' });
    await viaNetlink.check(other, { full: true });
    expect(await listing()).toBe(before);
    await viaNetlink.apply(r, { full: true });
  });

  it('a rule nft rejects leaves the old table running, with nft’s message, and no scratch table', async () => {
    const before = await listing();
    const [, good] = cases().find(([n]) => n === 'everything')!;
    const bad = { ...good, chains: new Map(good.chains) };
    bad.chains.set('broken', { name: 'broken', kind: 'action', rules: ['fwd to "nosuch0"'] });
    const err = await viaNetlink.apply(bad, { full: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatapathError);
    expect((err as DatapathError).code).toBe('NFT_REJECTED');
    expect((err as DatapathError).message).toMatch(/unchanged/);
    expect((err as DatapathError).stderr).toMatch(/nosuch0/);
    expect(await listing()).toBe(before);
    expect(await tables()).not.toMatch(/vcn__next/);
  });

  it('an element only the kernel rejects (a jump to a missing chain) leaves the old table running', async () => {
    const before = await listing();
    const [, good] = cases().find(([n]) => n === 'synthetic 2000')!;
    const act = good.sets.get('act')!;
    const bad = { ...good, sets: new Map(good.sets) };
    bad.sets.set('act', { ...act, elements: new Map([...act.elements, ['0x00000007', 'goto a_missing']]) });
    const err = await viaNetlink.apply(bad, { full: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatapathError);
    expect((err as DatapathError).code).toBe('NFT_REJECTED');
    expect(await listing()).toBe(before);
    expect(await tables()).not.toMatch(/vcn__next/);
    // nft refused it too: the netlink path was not at fault and stays in use.
    expect(viaNetlink.fullFallback()).toBeUndefined();
    const again = await viaNetlink.apply(good, { full: true });
    expect(again.via).toBe('netlink');
  });
});
