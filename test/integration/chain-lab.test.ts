/**
 * Real packets through real chains (issue 3): the lab's client talks to service
 * addresses; the engine (compile → render → nft in the engine namespace) steers
 * them through the bridge firewall, the one-armed device and the IDS tap to
 * loopback, alias and NAT servers, and back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import { enginePortOf, FW_BLOCKED } from '../../cli/lab/index.js';
import { engineLab, type EngineLab } from './helpers/engine-lab.js';
import { requireRoot } from './helpers/root.js';

let t: EngineLab;
let demo: Config;

beforeAll(async () => {
  requireRoot();
  t = await engineLab({ tcpPorts: [80, 8080, 8081, 8443, 5050], udpPorts: [9, 5353, 9999] });
  demo = t.lab.demoConfig();
  // Fig 6B: a second port of W1 goes to another server (NAT); Fig 9: a port owning a dynamic range.
  const web = demo.services.service.find((s) => s.name === 'web')!;
  web.port.push({ port: 8443, protocol: 'tcp', step: [{ seq: 1, device: 'snat', 'copy-to': [] }] });
  web.port.push({ port: 5000, protocol: 'tcp', range: { low: 5001, high: 5100 }, step: [{ seq: 1, device: 'fw', 'copy-to': [] }, { seq: 2, device: 'slo', 'copy-to': [] }] });
  await t.load(demo);
}, 120_000);

afterAll(async () => {
  await t?.down();
});

const curl = (role: 'cl' | 'cl2', url: string, extra: string[] = []) =>
  t.lab.tryExec(role, ['curl', '-sS', '--max-time', '3', ...extra, url], { timeoutMs: 10_000 });

describe('steering real traffic through the lab', () => {
  it('HTTP to W1:80 goes client → firewall → loopback server and back, in chain order', async () => {
    const { W1 } = t.lab.plan.service;
    const fw = await t.lab.capture('fw', 'fw0', { direction: 'in', filter: `tcp port 80 and host ${W1}` });
    const srv = await t.lab.capture('slo', 'slo0', { direction: 'in', filter: `tcp port 80 and host ${W1}` });
    const before = await t.lab.fwCounters();
    const r = await curl('cl', `http://${W1}/`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('server=slo');
    const [firstAtFw] = await fw.waitFor((p) => p.tcpFlags === 'S' && p.dst === W1);
    const [firstAtServer] = await srv.waitFor((p) => p.tcpFlags === 'S' && p.dst === W1);
    expect(firstAtFw.time).toBeLessThanOrEqual(firstAtServer.time);
    expect((await t.lab.fwCounters()).passed.packets).toBeGreaterThan(before.passed.packets);
  });

  it('alias mode: W2 reaches the alias server through the firewall pool', async () => {
    const r = await curl('cl', `http://${t.lab.plan.service.W2}/`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('server=sal');
  });

  it('NAT mode with the one-armed device: W3 is rewritten to the server and replies come back from W3', async () => {
    const { W3 } = t.lab.plan.service;
    const cap = await t.lab.capture('cl', 'cl0', { direction: 'in', filter: 'tcp' });
    const r = await curl('cl', `http://${W3}/`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('server=snat');
    const replies = await cap.waitFor((p) => p.sport === 80);
    expect(replies.every((p) => p.src === W3)).toBe(true);
    expect((await t.lab.oaCounters()).forwarded.packets).toBeGreaterThan(0);
  });

  it('port translation (Fig 8): W3:8000 is served on 8080 and answered from 8000', async () => {
    const r = await curl('cl', `http://${t.lab.plan.service.W3}:8000/`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('port=8080');
  });

  it('two services on one W1 chosen by port (Fig 6B)', async () => {
    const { W1 } = t.lab.plan.service;
    const a = await curl('cl', `http://${W1}:80/`);
    const b = await curl('cl', `http://${W1}:8443/`);
    expect(a.stdout).toContain('server=slo');
    expect(b.stdout).toContain('server=snat');
  });

  it('a port in the dynamic range (Fig 9) follows the chain of its service port', async () => {
    const r = await curl('cl', `http://${t.lab.plan.service.W1}:5050/`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('server=slo port=5050');
  });

  it('the firewall dropping a port stops the packets: nothing bypasses a device', async () => {
    const { W1 } = t.lab.plan.service;
    const before = await t.lab.fwCounters();
    await t.lab.clearServerLog('slo');
    const r = await curl('cl', `http://${W1}:${FW_BLOCKED.tcp}/`, ['--max-time', '1']);
    expect(r.code).not.toBe(0);
    expect((await t.lab.fwCounters()).droppedTcp.packets).toBeGreaterThan(before.droppedTcp.packets);
    expect((await t.lab.serverLog('slo')).filter((l) => l.lport === FW_BLOCKED.tcp)).toEqual([]);
  });

  it('the IDS gets a copy of W4 traffic after the firewall, and its alert packet reaches the server', async () => {
    const { W4 } = t.lab.plan.service;
    const fw = await t.lab.capture('fw', 'fw0', { direction: 'in', filter: `tcp port 80 and host ${W4}` });
    const r = await curl('cl', `http://${W4}/`);
    expect(r.code, r.stderr).toBe(0);
    const seen = await t.lab.ids.waitFor((p) => p.dst === W4 && p.dport === 80 && p.tcpFlags === 'S');
    const [atFw] = await fw.waitFor((p) => p.dst === W4 && p.tcpFlags === 'S');
    // Chain order: firewall (step 1) before the copy made on the way to the server (step 2).
    expect(atFw.time).toBeLessThanOrEqual(seen[0].time);
    await t.lab.clearServerLog('slo');
    await t.lab.ids.alert({ dst: W4, dport: 9, proto: 'udp' });
    await expect.poll(async () => (await t.lab.serverLog('slo')).some((l) => l.proto === 'udp' && l.local === W4 && l.lport === 9), { timeout: 5000 }).toBe(true);
  });

  it('IPv6: W6 is served through the firewall chain', async () => {
    const r = await curl('cl', `http://[${t.lab.plan.service.W6}]/`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('server=slo');
  });

  it('ISP mode: cl2 reaches the upstream network through the firewall and back', async () => {
    const before = await t.lab.fwCounters();
    const r = await curl('cl2', `http://${t.lab.plan.upstream.ipv4}/`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('server=rt');
    expect((await t.lab.fwCounters()).passed.packets).toBeGreaterThan(before.passed.packets);
  });

  it('nothing else passes: a destination no service claims is dropped at the engine', async () => {
    const r = await curl('cl', `http://${t.lab.plan.service.W1.replace(/\.\d+$/, '.77')}/`, ['--max-time', '1']);
    expect(r.code).not.toBe(0);
  });

  it('the uplink port exists in the engine as the lab describes', () => {
    expect(enginePortOf(t.lab.plan, 'rt').name).toBe('e0');
  });
});
