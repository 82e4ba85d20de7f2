/**
 * Full apply as one netlink transaction (netlink-full.ts) on the real kernel,
 * in a namespace of our own: every golden ruleset (hand-built tables and the
 * compiler's figure fixtures: ACLs, rate limits, DSCP, IPv6, NAT, load
 * sharing, local-address interval sets) and a synthetic 2000-service table
 * list exactly as they do after `nft -f` of the rendered script; a full
 * apply onto a table with the same skeleton changes only what differs and
 * keeps the counters; a ruleset nft rejects, and one only the kernel rejects,
 * leave the old table as it was and no scratch table behind.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../appliance/compile/compile.js';
import { deviceLegsOf, type DataplaneFacts } from '../../appliance/compile/render-facts.js';
import type { RenderedRuleset } from '../../appliance/compile/render-model.js';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import type { SequenceTable } from '../../appliance/compile/sequence-table.js';
import { DatapathError } from '../../appliance/datapath/datapath.js';
import { NftDriver } from '../../appliance/datapath/nft-driver.js';
import { printRuleset } from '../../appliance/compile/render-print.js';
import { encodable } from '../../appliance/datapath/netlink-encode.js';
import { loadFixture } from '../helpers/config.js';
import { everything, FACTS, GOLDEN_TABLES, IPV6_FACTS } from '../unit/render-tables.js';
import { syntheticTable } from '../unit/render-synthetic.js';
import { MiniNet } from './helpers/netns-mini.js';
import { miniNetHooks } from './helpers/mini-net-hooks.js';

const net = new MiniNet();
let ns: string;
let viaNft: NftDriver;
let viaNetlink: NftDriver;

const LOCAL = { addresses: ['192.0.2.10', '2001:db8::10'], arp: true, nd: true, dhcp: true };

/** Every golden case: hand-built tables, compiler fixtures, and a synthetic table with every feature. */
function cases(): [string, RenderedRuleset][] {
  const out: [string, RenderedRuleset][] = [];
  const tables: Record<string, [() => SequenceTable, DataplaneFacts]> = { ...GOLDEN_TABLES, everything: [everything, { ...IPV6_FACTS, local: LOCAL }] };
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

const nft = async (args: string[], input?: string) => (await net.exec(ns, ['nft', ...args], { timeoutMs: 60_000, input })).stdout;
/** A listing's lines sorted, element lists split per element: pipapo lists its elements in insertion order. */
const sortedLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.replace(/^\s*elements = \{ /, '').replace(/,$|\s*\}$/, '').trim())
    .filter(Boolean)
    .sort();
const SYN_IFS = { up: 'I0', fw0: 'I1', fw1: 'I2', srv: 'I3' };
/** Synthetic services [0, keep) and [from, from + extra). */
function synthetic(keep: number, from: number, extra: number): RenderedRuleset {
  const a = syntheticTable(keep, { ifs: SYN_IFS, features: true });
  const b = syntheticTable(extra, { ifs: SYN_IFS, features: true }, from);
  return renderRuleset({ rows: [...a.rows, ...b.rows], services: [...a.services, ...b.services] }, { ...FACTS, local: LOCAL }, { tableName: 'vcn' });
}
const listing = () => nft(['list', 'table', 'netdev', 'vcn']);
const tables = () => nft(['list', 'tables']);

miniNetHooks(
  net,
  async () => {
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
  },
  {
    teardown: () => {
      viaNetlink?.close();
      viaNft?.close();
    },
  },
);

describe('full apply over netlink', () => {
  it('every golden ruleset lists exactly as after nft -f of its script', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThan(20);
    for (const [name, r] of all) {
      const a = await viaNft.apply(r, { full: true, carryCounters: false });
      expect(a.via, name).toBe('nft');
      const byNft = await listing();
      // From no table: the whole transaction, not a diff against nft's identical table.
      await nft(['delete', 'table', 'netdev', 'vcn']);
      const b = await viaNetlink.apply(r, { full: true });
      expect(b.kernelDiff, name).toBeUndefined();
      expect(b.via, `${name}: ${b.fallback ?? ''}`).toBe('netlink');
      expect(await listing(), name).toBe(byNft);
      expect(await tables(), name).not.toMatch(/vcn__next/);
    }
    expect(viaNetlink.fullFallback()).toBeUndefined();
  }, 600_000);

  it('onto a table with the same skeleton, a full apply changes only what differs; counters stay', async () => {
    const before = synthetic(2000, 0, 0);
    // The running table, loaded by nft with counts on two rows' elements.
    const rowIn = before.rows.get('s5/80/in')!;
    const rowOut = before.rows.get('s6/80/out')!;
    const counts = new Map([
      [rowIn.map, new Map([[rowIn.key, { packets: 5, bytes: 500 }]])],
      [rowOut.map, new Map([[rowOut.key, { packets: 7, bytes: 700 }]])],
    ]);
    await nft(['-f', '-'], printRuleset(before, counts));
    // Ten services go, ten come, and s6's out row gets a new action (its element's data changes).
    const after = synthetic(1990, 3000, 10);
    const s6 = after.sets.get(rowOut.map)!;
    const other = [...after.sets.get('act')!.elements.keys()].find((id) => id !== s6.elements.get(rowOut.key))!;
    s6.elements.set(rowOut.key, other);
    const fresh = new NftDriver({ netns: ns });
    try {
      const r = await fresh.apply(after, { full: true });
      expect(r.via, r.fallback).toBe('netlink');
      expect(r.kernelDiff).toBeDefined();
      const kd = r.kernelDiff!;
      expect(kd.added).toBeGreaterThan(10);
      expect(kd.added).toBeLessThan(100);
      // Every 4th service has NAT elements: the ten that go and the ten that come differ a little.
      expect(Math.abs(kd.deleted - kd.added)).toBeLessThanOrEqual(10);
      const carried = [...after.sets.values()].filter((s) => encodable(s)).reduce((n, s) => n + s.elements.size, 0);
      expect(kd.kept).toBe(carried - kd.added);
      expect(kd.objectsAdded).toBeGreaterThan(0);
      expect(kd.objectsDeleted).toBe(kd.objectsAdded);
      const text = await listing();
      expect(text).toMatch(new RegExp(`${rowIn.key.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&')} counter packets 5 bytes 500`));
      expect(text).toMatch(new RegExp(`${rowOut.key.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&')} counter packets 7 bytes 700 : ${other}`));
      // Counters aside, the table is the one nft -f of the new script makes.
      const diffed = sortedLines(text.replace(/counter packets \d+ bytes \d+/g, 'counter packets 0 bytes 0'));
      await viaNft.apply(after, { full: true, carryCounters: false });
      expect(diffed).toEqual(sortedLines(await listing()));
    } finally {
      fresh.close();
    }
  }, 300_000);

  it('an interface made again is not forwarded to by its old index (nft resolves fwd targets; a cached skeleton is stale)', async () => {
    const r = synthetic(50, 0, 0);
    expect((await viaNetlink.apply(r, { full: true, carryCounters: false })).via).toBe('netlink');
    // I3 (the servers' side, a fwd target) again, with a new index.
    await net.exec(ns, ['ip', 'link', 'del', 'I3']);
    await net.veth({ ns, name: 'I3', mac: '02:ee:00:00:00:03' }, { ns: net.ns('fpeer'), name: net.ifname('r3'), mac: '02:ee:00:00:01:33' });
    expect((await viaNetlink.apply(r, { full: true, carryCounters: false })).via).toBe('netlink');
    const byNetlink = await listing();
    await viaNft.apply(r, { full: true, carryCounters: false });
    expect(byNetlink).toBe(await listing());
  });

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
    expect((err as DatapathError).message).toMatch(/rejected/);
    expect((err as DatapathError).stderr).toMatch(/nosuch0/);
    // The netlink path was not at fault: it stays in use.
    expect(viaNetlink.fullFallback()).toBeUndefined();
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
