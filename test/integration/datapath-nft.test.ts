/**
 * The real driver against the kernel, in namespaces of our own (netns-mini):
 * a client, the engine and a server joined by veths with static neighbours,
 * as in the calibration's PE setup. Loads rendered rulesets, checks that a
 * broken one is rejected with nft's message while the old one keeps running,
 * sends real packets (exact byte counts), applies one-service diffs without
 * disturbing other elements or counters, and loads every golden script.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import type { DataplaneFacts } from '../../appliance/compile/render-facts.js';
import type { Row, SequenceTable, ServicePolicy } from '../../appliance/compile/sequence-table.js';
import { DatapathError } from '../../appliance/datapath/datapath.js';
import { NftDriver, readInterfaceMacs } from '../../appliance/datapath/nft-driver.js';
import { syntheticService } from '../unit/render-synthetic.js';
import { MiniNet } from './helpers/netns-mini.js';
import { miniNetHooks } from './helpers/mini-net-hooks.js';

const W1 = '10.77.100.1';
const W2 = '10.77.100.2';
const SERVER = '10.77.3.2';
const MAC = { c0: '02:77:00:00:01:02', e0: '02:77:00:00:01:01', e1: '02:77:00:00:0f:01', e2: '02:77:00:00:0f:02', e3: '02:77:00:00:03:01', s0: '02:77:00:00:03:02' };

const net = new MiniNet();
let eng: string;
let cl: string;
let sv: string;
let ifs: { up: string; fw0: string; fw1: string; srv: string };
let driver: NftDriver;
let facts: DataplaneFacts;

function policy(service: string, address: string, port: number): ServicePolicy {
  return { service, keyedBy: 'destination', address, family: 4, clientInterface: ifs.up, ports: [{ port }], acl: { defaultAction: 'permit', rules: [] }, resolved: {} };
}

/** echo: W1:9/udp on the server's loopback; web: W2:80/tcp NAT to the server's own 10.77.3.2:8080. */
function baseTable(): SequenceTable {
  const rows: Row[] = [
    {
      service: 'echo',
      servicePort: 9,
      fromStep: 0,
      origin: 'client',
      receive: { interface: ifs.up, dstIp: W1, port: { port: 9 }, protocol: 'udp', direction: 'forward' },
      sends: [{ interface: ifs.srv, mode: 'loopback', mac: MAC.s0, ip: W1, port: 9, copy: false, device: 'srv' }],
    },
    {
      service: 'echo',
      servicePort: 9,
      fromStep: 1,
      origin: 'step 1 (srv)',
      receive: { interface: ifs.srv, srcMac: MAC.s0, srcIp: W1, port: { port: 9 }, protocol: 'udp', direction: 'reverse' },
      sends: [{ interface: ifs.up, mode: 'router', mac: MAC.c0, ip: W1, port: 9, copy: false }],
    },
    {
      service: 'web',
      servicePort: 80,
      fromStep: 0,
      origin: 'client',
      receive: { interface: ifs.up, dstIp: W2, port: { port: 80 }, protocol: 'tcp', direction: 'forward' },
      sends: [{ interface: ifs.srv, mode: 'nat', mac: MAC.s0, ip: SERVER, port: 8080, copy: false, device: 'srv' }],
    },
    {
      service: 'web',
      servicePort: 80,
      fromStep: 1,
      origin: 'step 1 (srv)',
      receive: { interface: ifs.srv, srcMac: MAC.s0, srcIp: SERVER, port: { port: 8080 }, protocol: 'tcp', direction: 'reverse' },
      sends: [{ interface: ifs.up, mode: 'router', mac: MAC.c0, ip: W2, port: 80, copy: false }],
    },
  ];
  return { rows, services: [policy('echo', W1, 9), policy('web', W2, 80)] };
}

function withSynthetic(t: SequenceTable, ks: number[]): SequenceTable {
  const out = { rows: [...t.rows], services: [...t.services] };
  for (const k of ks) {
    const s = syntheticService(k, { ifs, features: true });
    out.rows.push(...s.rows);
    out.services.push(s.policy);
  }
  return out;
}

const render = (t: SequenceTable) => renderRuleset(t, facts, { tableName: 'vcn' });
const nftText = async () => (await net.exec(eng, ['nft', 'list', 'table', 'netdev', 'vcn'])).stdout;

/** Send `count` UDP datagrams of `size` bytes to W1:9 and wait for every echo. */
async function udpEcho(count: number, size: number): Promise<number> {
  const js = `const d=require('dgram').createSocket('udp4');let got=0;const t=setTimeout(()=>{console.log('got '+got);process.exit(1)},5000);
d.on('message',()=>{if(++got===${count}){clearTimeout(t);console.log('got '+got);process.exit(0)}});
for(let i=0;i<${count};i++)d.send(Buffer.alloc(${size},0x5a),9,'${W1}');`;
  const r = await net.exec(cl, ['node', '-e', js], { allowFail: true, timeoutMs: 15_000 });
  return Number(/got (\d+)/.exec(r.stdout)?.[1] ?? -1);
}

async function tcpEcho(message: string): Promise<string> {
  const js = `const s=require('net').connect(80,'${W2}',()=>s.end(${JSON.stringify(message)}));let b='';s.on('data',d=>b+=d);
s.on('close',()=>{console.log('reply:'+b);process.exit(0)});s.on('error',e=>{console.log('error:'+e.message);process.exit(1)});setTimeout(()=>{console.log('timeout');process.exit(1)},5000);`;
  const r = await net.exec(cl, ['node', '-e', js], { allowFail: true, timeoutMs: 15_000 });
  return r.stdout.trim();
}

miniNetHooks(net, async () => {
  eng = await net.addNs('eng');
  cl = await net.addNs('cl');
  sv = await net.addNs('sv');
  const fw = await net.addNs('fw');
  ifs = { up: net.ifname('e0'), fw0: net.ifname('e1'), fw1: net.ifname('e2'), srv: net.ifname('e3') };
  await net.veth({ ns: cl, name: net.ifname('c0'), mac: MAC.c0 }, { ns: eng, name: ifs.up, mac: MAC.e0 });
  await net.veth({ ns: eng, name: ifs.srv, mac: MAC.e3 }, { ns: sv, name: net.ifname('s0'), mac: MAC.s0 });
  await net.veth({ ns: eng, name: ifs.fw0, mac: MAC.e1 }, { ns: fw, name: net.ifname('x1'), mac: '02:77:00:00:0f:10' });
  await net.veth({ ns: eng, name: ifs.fw1, mac: MAC.e2 }, { ns: fw, name: net.ifname('x2'), mac: '02:77:00:00:0f:11' });
  const c0 = net.ifname('c0');
  const s0 = net.ifname('s0');
  // Checksums computed by the senders (no offload), so a wrong rewrite would be dropped by the receiver.
  await net.sh(cl, `ip addr add 10.77.1.2/24 dev ${c0} && ip neigh add 10.77.1.1 lladdr ${MAC.e0} dev ${c0} nud permanent && ip route add default via 10.77.1.1 && ethtool -K ${c0} tx off >/dev/null`);
  await net.sh(
    sv,
    `ip addr add ${SERVER}/24 dev ${s0} && ip addr add ${W1}/32 dev lo && ip neigh add 10.77.3.1 lladdr ${MAC.e3} dev ${s0} nud permanent && ip route add 10.77.1.0/24 via 10.77.3.1 && ethtool -K ${s0} tx off >/dev/null`,
  );
  const udp = net.start(sv, ['node', '-e', `const d=require('dgram').createSocket('udp4');d.on('message',(m,r)=>d.send(m,r.port,r.address));d.bind(9,'${W1}',()=>console.log('ready'))`]);
  const tcp = net.start(sv, ['node', '-e', `require('net').createServer(s=>s.pipe(s)).listen(8080,'${SERVER}',()=>console.log('ready'))`]);
  await Promise.all([net.waitFor(udp, /ready/), net.waitFor(tcp, /ready/)]);
  driver = new NftDriver({ netns: eng });
  facts = { interfaceMacs: await readInterfaceMacs(eng), deviceLegs: {} };
});

describe('nft driver in a namespace', () => {
  it('loads a rendered ruleset as one transaction and lists it back', async () => {
    const r = await driver.apply(render(baseTable()));
    expect(r.mode).toBe('full');
    const json = (await driver.listRuleset()) as { nftables: Record<string, { name: string; elem?: unknown[] }>[] };
    const maps = Object.fromEntries(json.nftables.filter((x) => x.map).map((x) => [x.map.name, x.map.elem?.length ?? 0]));
    // IPv4 rows without MAC sit in per-interface maps (v4_ddp_if_<interface>).
    const perIf = (re: RegExp) => Object.entries(maps).reduce((n, [name, count]) => n + (re.test(name) ? count : 0), 0);
    expect(perIf(/^v4_ddp_if_\w+(?<!_nat|_lim)$/)).toBe(2);
    expect(perIf(/^v4_ddp(_if_\w+)?_nat$/)).toBe(1);
    expect(maps).toMatchObject({ v4_mssp: 2, v4_ssp_nat: 1, snd4: 1 });
    expect(await nftText()).toContain(`type filter hook ingress device "${ifs.up}" priority filter; policy drop;`);
  });

  it('steers real packets; row counters count exact L3 bytes, both directions', async () => {
    const before = await driver.readCounters();
    expect(await udpEcho(5, 100)).toBe(5);
    const after = await driver.readCounters();
    // 5 datagrams of 100 bytes: 5 × (20 IPv4 + 8 UDP + 100) = 640 bytes each way.
    const delta = (id: string) => ({ packets: after.rows.get(id)!.packets - before.rows.get(id)!.packets, bytes: after.rows.get(id)!.bytes - before.rows.get(id)!.bytes });
    expect(delta('echo/9/in')).toEqual({ packets: 5, bytes: 640 });
    expect(delta('echo/9/out')).toEqual({ packets: 5, bytes: 640 });
    expect(after.servicePorts.get('echo/9')).toEqual({ service: 'echo', servicePort: 9, in: after.rows.get('echo/9/in'), out: after.rows.get('echo/9/out') });
  });

  it('reads the same counters over netlink as through nft -j list', async () => {
    const fast = await driver.readCounters();
    const slow = await driver.readCounters({ via: 'nft' });
    expect(driver.counterFallback()).toBeUndefined();
    expect(fast.rows).toEqual(slow.rows);
    expect(fast.acl).toEqual(slow.acl);
    expect(fast.rows.get('echo/9/in')!.packets).toBeGreaterThan(0);
  });

  it('NAT with port translation carries TCP (checksums right without offload)', async () => {
    expect(await tcpEcho('hello through the engine')).toBe('reply:hello through the engine');
    const c = await driver.readCounters();
    expect(c.rows.get('web/80/in')!.packets).toBeGreaterThanOrEqual(3);
    expect(c.rows.get('web/80/out')!.packets).toBeGreaterThanOrEqual(2);
  });

  it('nft -c rejects a broken ruleset with nft’s message; apply leaves the old one running', async () => {
    const textBefore = await nftText();
    const running = driver.running();
    const broken = baseTable();
    broken.rows[0].sends[0].interface = 'nosuch0';
    const bad = renderRuleset(broken, { ...facts, interfaceMacs: { ...facts.interfaceMacs, nosuch0: '02:00:00:00:00:99' } }, { tableName: 'vcn' });
    const err = await driver.check(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatapathError);
    expect((err as DatapathError).code).toBe('NFT_REJECTED');
    expect((err as DatapathError).message).toMatch(/nft -c rejected the ruleset/);
    expect((err as DatapathError).stderr).toMatch(/nosuch0/);
    await expect(driver.apply(bad)).rejects.toThrow(/rejected/);
    await expect(driver.apply(bad, { check: false })).rejects.toThrow(/running one is unchanged/);
    expect(driver.running()).toBe(running);
    expect(await nftText()).toBe(textBefore);
    expect(await udpEcho(1, 10)).toBe(1);
  });

  it('a one-service diff adds and removes only that service; other elements and their counters stay', async () => {
    const base = withSynthetic(baseTable(), [1, 2, 3]);
    await driver.apply(render(base));
    expect(await udpEcho(3, 50)).toBe(3);
    const c0 = await driver.readCounters();
    const listed0 = await nftText();

    const added = await driver.apply(render(withSynthetic(baseTable(), [1, 2, 3, 13])));
    expect(added.mode).toBe('diff');
    expect(added.stats).toMatchObject({ elementsDeleted: 0, chainsDeleted: 0, objectsDeleted: 0 });
    const c1 = await driver.readCounters();
    expect((await driver.readCounters({ via: 'nft' })).acl).toEqual(c1.acl);
    expect(c1.acl.has('acl/s13/10')).toBe(true);
    expect(c1.rows.get('echo/9/in')).toEqual(c0.rows.get('echo/9/in'));
    expect(c1.rows.get('echo/9/out')).toEqual(c0.rows.get('echo/9/out'));
    expect(c1.acl.get('acl/s3/10')).toEqual(c0.acl.get('acl/s3/10'));
    const listed1 = await nftText();
    expect(listed1).toContain('10.100.0.13 . 80');
    expect(listed1).toContain('counter acl/s13/10');
    for (const line of listed0.split('\n').filter((l) => /10\.77\.100\.1 \. 9 counter/.test(l))) expect(listed1).toContain(line.trim().replace(/,$/, ''));

    const removed = await driver.apply(render(base));
    expect(removed.mode).toBe('diff');
    expect(removed.stats).toMatchObject({ elementsAdded: 0 });
    const c2 = await driver.readCounters();
    expect(c2.rows.get('echo/9/in')).toEqual(c0.rows.get('echo/9/in'));
    const listed2 = await nftText();
    expect(listed2).not.toContain('10.100.0.13 . 80');
    expect(listed2).not.toContain('acl/s13/10');
  });

  it('a replaced row keeps its count (the client router changes its MAC)', async () => {
    const t = baseTable();
    await driver.apply(render(t));
    expect(await udpEcho(2, 10)).toBe(2);
    const before = (await driver.readCounters()).rows.get('echo/9/out')!;
    expect(before.packets).toBeGreaterThan(0);
    t.rows[1].sends[0].mac = '02:77:00:00:01:99';
    const r = await driver.apply(render(t));
    expect(r.mode).toBe('diff');
    expect(r.carried).toBe(1);
    const after = (await driver.readCounters()).rows.get('echo/9/out')!;
    expect(after).toEqual(before);
  });

  it('loads every golden script (nft -c) where interfaces I0..I3 exist', async () => {
    const gold = await net.addNs('gold');
    for (let i = 0; i < 4; i++) await net.veth({ ns: gold, name: `I${i}`, mac: `02:ee:00:00:00:0${i}` }, { ns: gold, name: `P${i}`, mac: `02:ee:00:00:01:0${i}` });
    const dir = join(import.meta.dirname, '..', 'golden', 'render');
    const files = readdirSync(dir).filter((f) => f.endsWith('.nft'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const r = await net.exec(gold, ['nft', '-c', '-f', '-'], { input: readFileSync(join(dir, f), 'utf8'), allowFail: true });
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
    }
  });
});
