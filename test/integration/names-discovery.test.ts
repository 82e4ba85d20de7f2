/**
 * Service names and discovery on the real kernel (issue 7 part B): a daemon in
 * its own engine namespace runs Debian's dnsmasq from the running
 * configuration. A resolver in the client namespace sees a name answered
 * round-robin over its service IPs, then the cut-over (RPC cutover-name, one
 * commit), then the rollback; a device on a device segment gets a DHCP lease
 * through the engine's data plane and appears as a device-discovered event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import { defaultSystem } from '../../mgmt/schema/defaults.js';
import { startDaemon, type Daemon } from '../../mgmt/daemon.js';
import { FRONTEND_NS, NetconfClient } from '../../cli/netconf-client/client.js';
import { MiniNet } from './helpers/netns-mini.js';
import { requireRoot } from './helpers/root.js';
import { runProcess } from '../../appliance/run-process.js';

const FIX = join(import.meta.dirname, 'fixtures');
const NAME = 'shop.example.net';
const [W1, W2, W9] = ['10.100.0.1', '10.100.0.2', '10.100.0.9'];
const DEV_MAC = '02:77:00:00:00:42';

let net: MiniNet;
let dir: string;
let daemon: Daemon | undefined;
const logs: string[] = [];
let nc: NetconfClient;
let eng: string;
let cl: string;
let dev: string;
let m0: string;
let d0: string;
let v0: string;

function config(): Config {
  return {
    system: defaultSystem(),
    interfaces: {
      interface: [
        { name: m0, role: 'management', address: ['10.77.0.1/24'], gateway: {} },
        { name: d0, role: 'device-segment', address: ['10.78.0.1/24'], gateway: {}, dhcp: { 'range-start': '10.78.0.50', 'range-end': '10.78.0.60', 'lease-time': 600 } },
      ],
    },
    devices: { device: [] },
    pools: { pool: [] },
    packages: { package: [] },
    services: { service: [] },
    'service-names': { 'listen-address': ['10.77.0.1'], ttl: 5, name: [{ name: NAME, 'service-ip': [W1, W2] }] },
  };
}

beforeAll(async () => {
  requireRoot();
  net = new MiniNet();
  dir = mkdtempSync(join(tmpdir(), 'vcn-names-'));
  [eng, cl, dev] = [await net.addNs('eng'), await net.addNs('cl'), await net.addNs('dev')];
  [m0, d0, v0] = [net.ifname('m0'), net.ifname('d0'), net.ifname('v0')];
  await net.veth({ ns: eng, name: m0, mac: '02:77:00:00:00:01' }, { ns: cl, name: net.ifname('c0'), mac: '02:77:00:00:00:02' });
  await net.veth({ ns: eng, name: d0, mac: '02:77:00:00:00:03' }, { ns: dev, name: v0, mac: DEV_MAC });
  // The daemon does not assign interface addresses (the image's network setup does): the test stands in for it.
  await net.sh(eng, `ip addr add 10.77.0.1/24 dev ${m0} && ip addr add 10.78.0.1/24 dev ${d0}`);
  await net.sh(cl, `ip addr add 10.77.0.2/24 dev ${net.ifname('c0')}`);
  daemon = await startDaemon({
    db: join(dir, 'vcn.db'),
    netns: eng,
    table: 'vcn',
    netconf: { unix: join(dir, 'nc.sock'), adminPassword: 'admin-secret' },
    names: { dir: join(dir, 'names'), watchMs: 200 },
    sampleEveryMs: 0,
    log: (l) => logs.push(l),
  });
  nc = await NetconfClient.connect({ socket: join(dir, 'nc.sock') });
  await nc.replaceCandidate(config());
  await nc.commit({ comment: 'names and dhcp' });
}, 120_000);

afterAll(async () => {
  if (process.env.NAMES_DEBUG) console.log(logs.join('\n'), daemon?.names?.dnsmasq.log());
  await nc?.close().catch(() => undefined);
  await daemon?.stop();
  await net?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** COUNT answers from the resolver in the client namespace, each the A records in answer order. */
async function resolve(count = 1): Promise<string[][]> {
  const r = await net.exec(cl, ['python3', join(FIX, 'dns-query.py'), '10.77.0.1', NAME, String(count)], { timeoutMs: 20_000 });
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as string[]);
}

describe('service names (dnsmasq from the running configuration)', () => {
  let before: number;

  it('dnsmasq runs by PID from the daemon and answers the name round-robin over its service IPs', async () => {
    await expect.poll(() => daemon!.names!.dnsmasq.pid ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(async () => (await resolve())[0].sort(), { timeout: 10_000 }).toEqual([W1, W2]);
    const answers = await resolve(8);
    for (const a of answers) expect([...a].sort()).toEqual([W1, W2]);
    // Round-robin: the first address of the answer changes between queries.
    expect(new Set(answers.map((a) => a[0]))).toEqual(new Set([W1, W2]));
  });

  it('cutover-name remaps the name to the new service IP in one commit; the resolver sees it', async () => {
    before = (await nc.history(1))[0].id;
    const pid = daemon!.names!.dnsmasq.pid;
    const t0 = Date.now();
    const reply = await nc.rpc(`<cutover-name xmlns="${FRONTEND_NS}"><name>${NAME}</name><service-ip>${W9}</service-ip></cutover-name>`);
    const rpcMs = Date.now() - t0;
    const id = Number(reply.find((e) => e.localName === 'commit-id')!.textContent);
    expect(id).toBeGreaterThan(before);
    expect((await nc.getConfig('running'))['service-names']!.name[0]['service-ip']).toEqual([W9]);
    await expect.poll(async () => (await resolve())[0], { timeout: 10_000, interval: 50 }).toEqual([W9]);
    console.log(`cut-over of ${NAME}: RPC (commit) ${rpcMs} ms; from the call to the resolver seeing ${W9}: ${Date.now() - t0} ms`);
    // Only names changed: dnsmasq re-read its hosts file (SIGHUP) instead of restarting.
    expect(daemon!.names!.dnsmasq.pid).toBe(pid);
  });

  it('rollback to the commit before the cut-over maps the name back', async () => {
    await nc.rollback(before, 'undo the cut-over');
    await expect.poll(async () => (await resolve())[0].sort(), { timeout: 10_000 }).toEqual([W1, W2]);
  });

  it('vcn cutover-name does the same from the command line', async () => {
    const r = await runProcess(['node', '--import', 'tsx', join(import.meta.dirname, '../../cli/vcn.ts'), 'cutover-name', NAME, W1, '--json', '--socket', join(dir, 'nc.sock')], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ name: NAME, serviceIp: W1 });
    await expect.poll(async () => (await resolve())[0], { timeout: 10_000 }).toEqual([W1]);
  }, 60_000);

  it('a cut-over of an unknown name is refused with its code, and nothing is committed', async () => {
    const head = (await nc.history(1))[0].id;
    await expect(nc.rpc(`<cutover-name xmlns="${FRONTEND_NS}"><name>nope.example.net</name><service-ip>${W9}</service-ip></cutover-name>`)).rejects.toThrow(/NO_SUCH_NAME|no service name/);
    await nc.discard();
    expect((await nc.history(1))[0].id).toBe(head);
  });
});

describe('discovery: DHCP on a device segment', () => {
  it('a device gets a lease through the engine data plane and is reported as a device-discovered event', async () => {
    // DHCP requests pass the engine's ingress hook (policy drop) by the rule the dhcp block adds.
    expect((await net.exec(eng, ['nft', 'list', 'table', 'netdev', 'vcn'])).stdout).toMatch(/udp dport 67 accept/);
    const r = await net.exec(dev, ['python3', join(FIX, 'dhcp-client.py'), v0, DEV_MAC, 'probe-dev'], { timeoutMs: 30_000 });
    const lease = JSON.parse(r.stdout.trim()) as { offer: string; ack: string; server: string };
    expect(lease.server).toBe('10.78.0.1');
    expect(lease.ack).toBe(lease.offer);
    const n = lease.ack.split('.').map(Number)[3];
    expect(n).toBeGreaterThanOrEqual(50);
    expect(n).toBeLessThanOrEqual(60);
    await expect
      .poll(() => daemon!.store.events(50).find((e) => e.kind === 'device-discovered' && e.subject === DEV_MAC), { timeout: 10_000 })
      .toBeTruthy();
    const ev = daemon!.store.events(50).find((e) => e.kind === 'device-discovered' && e.subject === DEV_MAC)!;
    expect(JSON.parse(ev.detail!)).toMatchObject({ ip: lease.ack, hostname: 'probe-dev' });
  }, 60_000);
});
