/**
 * Load sharing on the real kernel (issue 7): W2 goes through a load-shared
 * firewall pool (the bridge fw and the one-armed oa) to a load-shared server
 * pool (slo in loopback mode, sal in alias mode, both holding W2). Many client
 * addresses on the client namespace are split by a hash of the client
 * address; each client meets one firewall in both directions (the per-member
 * counters of the forward row and of the reverse rows agree) and one server;
 * marking a member failed moves only its clients to the survivor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import type { RuntimeState } from '../../appliance/compile/resolve-step.js';
import { engineLab, type EngineLab } from './helpers/engine-lab.js';
import { requireRoot } from './helpers/root.js';

const CLIENTS = Number(process.env.SHARE_CLIENTS ?? 24);
let t: EngineLab;
let config: Config;
let clients: string[] = [];

beforeAll(async () => {
  requireRoot();
  t = await engineLab({ tcpPorts: [80] });
  const { W2 } = t.lab.plan.service;
  // slo holds W2 on lo as well (loopback mode); sal keeps it as a non-ARP alias.
  await t.lab.exec('slo', 'ip', 'addr', 'add', `${W2}/32`, 'dev', 'lo');
  const base = t.lab.plan.hosts.cl.ifaces[0].ipv4[0].split('/')[0].replace(/\.\d+$/, '');
  clients = Array.from({ length: CLIENTS }, (_, i) => `${base}.${100 + i}`);
  for (const ip of clients) await t.lab.exec('cl', 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'cl0');
  config = t.lab.demoConfig();
  config.pools.pool.find((p) => p.name === 'firewalls')!['load-sharing'] = true;
  config.pools.pool.push({ name: 'servers', function: 'server', member: ['slo', 'sal'], 'load-sharing': true });
  const svc = config.services.service.find((s) => s.name === 'web-alias')!;
  svc.port[0].step[1] = { seq: 2, pool: 'servers', 'copy-to': [] };
  await t.load(config);
}, 120_000);

afterAll(async () => {
  await t?.down();
});

type Share = Map<string, number>;

/** The per-member counters straight from the kernel (`nft -j list counters`: faster than a full counter read per client). */
async function shareCounters(): Promise<Share> {
  const r = await t.lab.exec('eng', 'nft', '-j', 'list', 'counters', 'table', 'netdev', 'vcn');
  const out: Share = new Map();
  for (const item of (JSON.parse(r.stdout) as { nftables: { counter?: { name: string; packets: number } }[] }).nftables) {
    if (item.counter?.name.startsWith('share/')) out.set(item.counter.name, item.counter.packets);
  }
  return out;
}

/** What one client address meets: the server that answered and the firewall members each direction's counters saw. */
async function visit(ip: string): Promise<{ server: string; forward: string[]; reverse: string[] }> {
  const before = await shareCounters();
  const r = await t.lab.tryExec('cl', ['curl', '-sS', '--max-time', '3', '--interface', ip, `http://${t.lab.plan.service.W2}/`], { timeoutMs: 10_000 });
  expect(r.code, `${ip}: ${r.stderr}`).toBe(0);
  const after = await shareCounters();
  const grew = (prefix: string) =>
    [...after.entries()].filter(([k, v]) => k.startsWith(prefix) && v > (before.get(k) ?? 0)).map(([k]) => k.split('/').pop()!);
  const server = /server=(\w+)/.exec(r.stdout)?.[1] ?? '?';
  // Forward: the client's packets into the firewall pool; reverse: the server's replies back into it.
  return { server, forward: grew('share/web-alias/80/in/'), reverse: [...new Set(grew('share/web-alias/80/r2.'))] };
}

async function visitAll(): Promise<Map<string, { server: string; firewall: string }>> {
  const out = new Map<string, { server: string; firewall: string }>();
  for (const ip of clients) {
    const v = await visit(ip);
    // One member per client, and the same one in both directions.
    expect(v.forward, ip).toHaveLength(1);
    expect(v.reverse, ip).toEqual(v.forward);
    out.set(ip, { server: v.server, firewall: v.forward[0] });
  }
  return out;
}

const load = (state: RuntimeState) => t.engine.load(config, state);
const tally = (m: Map<string, { server: string; firewall: string }>, f: 'server' | 'firewall') => {
  const c: Record<string, number> = {};
  for (const v of m.values()) c[v[f]] = (c[v[f]] ?? 0) + 1;
  return c;
};

describe('load sharing over a pool (real kernel)', () => {
  let first: Map<string, { server: string; firewall: string }>;

  it('splits clients by hash over both firewalls and both servers; each client keeps one firewall both ways', async () => {
    first = await visitAll();
    const fw = tally(first, 'firewall');
    const srv = tally(first, 'server');
    console.log(`load sharing over ${CLIENTS} clients: firewalls ${JSON.stringify(fw)}, servers ${JSON.stringify(srv)}`);
    expect(Object.keys(fw).sort()).toEqual(['fw', 'oa']);
    expect(Object.keys(srv).sort()).toEqual(['sal', 'slo']);
  }, 180_000);

  it('is stable: a second round sends every client to the same members', async () => {
    const again = await visitAll();
    expect(again).toEqual(first);
  }, 180_000);

  it('the engine reports the per-member counters in its counter snapshot', async () => {
    const snap = await t.engine.readCounters();
    const direct = await shareCounters();
    for (const [name, packets] of direct) expect(snap.share!.get(name)!.packets, name).toBeGreaterThanOrEqual(packets);
    for (const m of ['fw', 'oa']) expect(direct.get(`share/web-alias/80/in/${m}`), m).toBeGreaterThan(0);
    for (const m of ['slo', 'sal']) expect([...direct].filter(([k]) => k.startsWith('share/web-alias/80/f1.') && k.endsWith(`/${m}`)).some(([, p]) => p > 0), m).toBe(true);
  });

  it('a failed firewall moves its clients to the survivor; servers keep their clients', async () => {
    await load({ failed: new Set(['oa']) });
    // One firewall left: its step is no longer shared, so the firewall pool's per-member counters are gone.
    expect([...(await shareCounters()).keys()].filter((k) => k.endsWith('/oa') || k.endsWith('/fw'))).toEqual([]);
    const oa = (await t.lab.oaCounters()).forwarded.packets;
    const fw = (await t.lab.fwCounters()).passed.packets;
    for (const ip of clients) {
      const r = await t.lab.tryExec('cl', ['curl', '-sS', '--max-time', '3', '--interface', ip, `http://${t.lab.plan.service.W2}/`], { timeoutMs: 10_000 });
      expect(r.code, `${ip}: ${r.stderr}`).toBe(0);
      expect(r.stdout, ip).toContain(`server=${first.get(ip)!.server}`);
    }
    expect((await t.lab.oaCounters()).forwarded.packets).toBe(oa);
    expect((await t.lab.fwCounters()).passed.packets).toBeGreaterThan(fw);
  }, 180_000);

  it('a failed server moves its clients to the other server, and recovery restores the split', async () => {
    await load({ failed: new Set(['sal']) });
    for (const ip of clients) {
      const r = await t.lab.tryExec('cl', ['curl', '-sS', '--max-time', '3', '--interface', ip, `http://${t.lab.plan.service.W2}/`], { timeoutMs: 10_000 });
      expect(r.stdout, ip).toContain('server=slo');
    }
    await load({});
    expect(await visitAll()).toEqual(first);
  }, 240_000);
});
