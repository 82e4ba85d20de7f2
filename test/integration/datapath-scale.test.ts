/**
 * Scale smoke: render and fully apply 10k services, then a one-service diff
 * each way, in a namespace of our own. Prints the times; asserts only what
 * must hold whatever the machine (modes, element counts, small diffs).
 */
import { describe, expect, it } from 'vitest';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import type { DataplaneFacts } from '../../appliance/compile/render-facts.js';
import { NftDriver, readInterfaceMacs } from '../../appliance/datapath/nft-driver.js';
import { syntheticTable, type SyntheticInterfaces } from '../unit/render-synthetic.js';
import { MiniNet } from './helpers/netns-mini.js';
import { miniNetHooks } from './helpers/mini-net-hooks.js';

const net = new MiniNet();
let ifs: SyntheticInterfaces;
let facts: DataplaneFacts;
let driver: NftDriver;

miniNetHooks(net, async () => {
  const eng = await net.addNs('big');
  const peer = await net.addNs('peer');
  ifs = { up: net.ifname('e0'), fw0: net.ifname('e1'), fw1: net.ifname('e2'), srv: net.ifname('e3') };
  let i = 0;
  for (const name of Object.values(ifs)) {
    await net.veth({ ns: eng, name, mac: `02:88:00:00:00:0${i}` }, { ns: peer, name: net.ifname(`p${i}`), mac: `02:88:00:00:01:0${i}` });
    i++;
  }
  facts = { interfaceMacs: await readInterfaceMacs(eng), deviceLegs: { fw: [ifs.fw0, ifs.fw1] } };
  driver = new NftDriver({ netns: eng });
});

describe('scale smoke (times printed, not asserted)', () => {
  it('10k services: full apply, then add and remove one service as diffs', async () => {
    const n = 10_000;
    const t0 = performance.now();
    const base = renderRuleset(syntheticTable(n, { ifs, features: true }), facts, { tableName: 'vcn' });
    const renderMs = performance.now() - t0;
    const full = await driver.apply(base);
    expect(full.mode).toBe('full');
    const plusOne = renderRuleset(syntheticTable(n + 1, { ifs, features: true }), facts, { tableName: 'vcn' });
    const add = await driver.apply(plusOne);
    expect(add.mode).toBe('diff');
    expect(add.stats!.elementsAdded).toBeLessThanOrEqual(8);
    // Element-only: one netlink batch, no nft run.
    expect(add.via).toBe('netlink');
    const del = await driver.apply(base);
    expect(del.mode).toBe('diff');
    expect(del.stats!.elementsDeleted).toBe(add.stats!.elementsAdded);
    expect(del.via).toBe('netlink');
    const read0 = performance.now();
    const counters = await driver.readCounters();
    const readMs = performance.now() - read0;
    expect(counters.rows.size).toBe(4 * n);
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    console.log(
      `[datapath-scale] ${n} services, ${base.stats.rows} rows, ${base.stats.elements} elements, script ${(full.scriptBytes / 1e6).toFixed(1)} MB: ` +
        `render ${ms(renderMs)}; full apply check ${ms(full.checkMs)} + apply ${ms(full.applyMs)}; ` +
        `one-service add: check ${ms(add.checkMs)} + apply ${ms(add.applyMs)} (${add.scriptBytes} B); ` +
        `remove: check ${ms(del.checkMs)} + apply ${ms(del.applyMs)}; read counters ${ms(readMs)}`,
    );
  });
});
