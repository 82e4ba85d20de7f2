/**
 * Discovery of a server's delivery mode (issue 7 part B): the daemon runs on
 * the lab with the demo configuration, and the NETCONF RPC detect-server-mode
 * probes each lab server from the engine's port with raw frames (TCP SYN to
 * the service IP at the server's MAC, SYN to the server's own IP, ARP for the
 * service IP; appliance/datapath/server-probe.ts). The lab's three servers
 * are loopback (slo: service IPs on lo), alias (sal: non-ARP alias) and NAT
 * (snat: only its own address); the probe must tell them apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../cli/lab/index.js';
import { startDaemon, type Daemon } from '../../mgmt/daemon.js';
import { FRONTEND_NS, NetconfClient } from '../../cli/netconf-client/client.js';
import { children, text } from '../../mgmt/netconf/xml.js';
import { requireRoot } from './helpers/root.js';
import { runProcess } from '../../appliance/run-process.js';

let lab: Lab;
let daemon: Daemon | undefined;
let nc: NetconfClient;
const dir = mkdtempSync(join(tmpdir(), 'vcn-mode-'));

beforeAll(async () => {
  requireRoot();
  lab = await Lab.up({ tcpPorts: [80] });
  daemon = await startDaemon({ db: join(dir, 'vcn.db'), netns: lab.ns('eng'), netconf: { unix: join(dir, 'nc.sock'), adminPassword: 'pw-admin' }, health: {}, sampleEveryMs: 0, log: () => undefined });
  nc = await NetconfClient.connect({ socket: join(dir, 'nc.sock') });
  await nc.replaceCandidate(lab.demoConfig());
  await nc.commit({ comment: 'demo' });
}, 120_000);

afterAll(async () => {
  await nc?.close().catch(() => undefined);
  await daemon?.stop();
  await lab?.down();
  rmSync(dir, { recursive: true, force: true });
});

async function detect(device: string): Promise<Record<string, string>> {
  const reply = await nc.rpc(`<detect-server-mode xmlns="${FRONTEND_NS}"><device>${device}</device></detect-server-mode>`);
  const out: Record<string, string> = {};
  for (const e of reply) {
    if (e.localName === 'evidence') for (const c of children(e)) out[`evidence/${c.localName}`] = text(c);
    else out[e.localName ?? ''] = text(e);
  }
  return out;
}

describe('detect-server-mode on the lab servers', () => {
  it.each([
    ['slo', 'loopback', 'W1'],
    ['sal', 'alias', 'W2'],
    ['snat', 'nat', 'W3'],
  ] as const)('%s answers in %s mode', async (device, mode, w) => {
    const r = await detect(device);
    console.log(`detect-server-mode ${device}: ${JSON.stringify(r)}`);
    expect(r.mode).toBe(mode);
    expect(r['configured-mode']).toBe(mode);
    expect(r['service-ip']).toBe(lab.plan.service[w]);
    expect(r['evidence/own-ip']).toBe('syn-ack');
    const ev = daemon!.store.events(20).find((e) => e.kind === 'server-mode' && e.subject === device)!;
    expect(JSON.parse(ev.detail!)).toMatchObject({ mode });
  }, 60_000);

  it('the verdict comes from the wire: slo probed for an address it does not hold looks like a NAT server', async () => {
    const reply = await nc.rpc(`<detect-server-mode xmlns="${FRONTEND_NS}"><device>slo</device><service-ip>${lab.plan.service.W3}</service-ip></detect-server-mode>`);
    expect(text(reply.find((e) => e.localName === 'mode')!)).toBe('nat');
  }, 60_000);

  it('vcn detect-server-mode prints the verdict with its evidence', async () => {
    const r = await runProcess(['node', '--import', 'tsx', join(import.meta.dirname, '../../cli/vcn.ts'), 'detect-server-mode', 'sal', '--socket', join(dir, 'nc.sock')], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toMatch(/^sal: alias\n.*ARP for .*: silent/s);
  }, 60_000);

  it('a device that does not exist is refused with its code', async () => {
    await expect(nc.rpc(`<detect-server-mode xmlns="${FRONTEND_NS}"><device>nope</device></detect-server-mode>`)).rejects.toThrow(/NO_SUCH_DEVICE|no device/);
  });

  it('probe replies are the engine\'s own traffic: TCP health probes and mode detection of the NAT server leave every service counter still', async () => {
    // snat answers a probe of its own address from that address and port: the key of web-nat's reply rows.
    const counters = async () => {
      const st = await nc.state();
      return st.servicePorts.map((p) => `${p.service}/${p.port} ${p.in.packets} ${p.out.packets}`);
    };
    const probes = () => daemon!.health!.state('snat')?.checks ?? 0;
    const before = await counters();
    const probed = probes();
    expect((await detect('snat')).mode).toBe('nat');
    await expect.poll(probes, { timeout: 20_000 }).toBeGreaterThanOrEqual(probed + 3);
    expect(daemon!.health!.state('snat')?.oper).toBe('up');
    expect(await counters()).toEqual(before);
  }, 60_000);
});
