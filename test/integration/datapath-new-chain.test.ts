/**
 * A diff that needs a new action chain (a service port nothing running does
 * the same for: here a translated port) goes to the kernel as one netlink
 * transaction of our own (appliance/datapath/netlink-chains.ts): nft compiles
 * the new chain in the dormant scratch table, the engine copies it into its
 * table with the element changes. On the real kernel: the chain the kernel
 * holds is the one a full apply of the same configuration loads, packets go
 * through it and are counted exactly, and removing the port deletes the chain
 * the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import { Engine } from '../../appliance/engine.js';
import { kernelFacts } from '../../appliance/datapath/kernel-facts.js';
import { NftDriver } from '../../appliance/datapath/nft-driver.js';
import { engineLab, validated, type EngineLab } from './helpers/engine-lab.js';
import { requireRoot } from './helpers/root.js';
import { udpBurst } from './helpers/udp-burst.js';

let t: EngineLab;
let config: Config;


/** The kernel's listing of one chain of the engine's table, rules only (no handles), or undefined when it is not there. */
async function kernelChain(name: string): Promise<string | undefined> {
  const r = await t.lab.tryExec('eng', ['nft', 'list', 'chain', 'netdev', t.driver.table, name], { timeoutMs: 10_000 });
  if (r.code !== 0) return undefined;
  return r.stdout.replace(/^table[^\n]*\n/, '').trim();
}

beforeAll(async () => {
  requireRoot();
  t = await engineLab({ udpPorts: [9, 19] });
  config = t.lab.demoConfig();
}, 120_000);

afterAll(async () => {
  await t?.down();
});

describe('a new action chain in a diff, over netlink', () => {
  it('adds the chain with its elements in one transaction of ours; it forwards and counts; removing the port deletes it', async () => {
    const { W1 } = t.lab.plan.service;
    await t.engine.load(validated(config), {}, { full: true });
    const before = new Set(t.driver.running()!.chains.keys());

    // UDP 7 on W1 through the firewall to the loopback server, translated to 19 (a port no other service uses, which the server listens on): nothing running rewrites a port to 19.
    const web = config.services.service.find((s) => s.name === 'web')!;
    const udp9 = web.port.find((p) => p.port === 9)!;
    const udp7 = structuredClone(udp9);
    udp7.port = 7;
    udp7.step = udp7.step.map((s) => (s.device === 'slo' ? { ...s, 'translate-port': 19 } : s));
    web.port.push(udp7);
    const added = await t.engine.load(validated(config));
    expect(added).toMatchObject({ mode: 'diff', via: 'netlink' });
    expect(added.fallback).toBeUndefined();
    expect(added.stats!.chainsAdded).toBeGreaterThan(0);
    const fresh = [...t.driver.running()!.chains.keys()].filter((c) => !before.has(c));
    expect(fresh.length).toBe(added.stats!.chainsAdded);
    const listed = new Map<string, string | undefined>();
    for (const c of fresh) listed.set(c, await kernelChain(c));
    // To the server the port becomes 19, back to the client 7 again.
    expect([...listed.values()].some((l) => l?.includes('udp dport set 19'))).toBe(true);
    expect([...listed.values()].some((l) => l?.includes('udp sport set 7'))).toBe(true);

    // Packets to W1:7 reach the server on port 19, counted exactly on the new port's row.
    const count = 60;
    const payload = 77;
    const bytes = 20 + 8 + payload;
    const delivered = async () => (await t.lab.serverLog('slo')).filter((l) => l.local === W1 && l.lport === 19 && l.len === payload).length;
    await t.lab.exec('cl', 'node', '-e', udpBurst(W1, 7, count, payload));
    await expect.poll(delivered, { timeout: 10_000 }).toBeGreaterThanOrEqual(count);
    expect((await t.engine.readCounters()).servicePorts.get('web/7')!.in).toEqual({ packets: count, bytes: count * bytes });

    // The same chains as a full apply of the same configuration loads them (nft compiling the whole table).
    await t.engine.load(validated(config), {}, { full: true });
    for (const c of fresh) expect(await kernelChain(c)).toBe(listed.get(c));

    // Removing the port: its chains go in a transaction of ours too.
    web.port = web.port.filter((p) => p !== udp7);
    const removed = await t.engine.load(validated(config));
    expect(removed).toMatchObject({ mode: 'diff', via: 'netlink' });
    expect(removed.stats!.chainsDeleted).toBe(fresh.length);
    for (const c of fresh) expect(await kernelChain(c)).toBeUndefined();

    // Without the namespace apart (no unshare, say), nft compiles the chains in the engine's namespace: the same
    // transaction, the same chains.
    const ns = t.lab.ns('eng');
    const here = new NftDriver({ netns: ns, compileApart: false });
    try {
      const engine = new Engine({ datapath: here, facts: kernelFacts(ns) });
      await engine.load(validated(config), {}, { full: true });
      web.port.push(udp7);
      expect(await engine.load(validated(config))).toMatchObject({ mode: 'diff', via: 'netlink' });
      for (const c of fresh) expect(await kernelChain(c)).toBe(listed.get(c));
    } finally {
      here.close();
    }
  });
});
