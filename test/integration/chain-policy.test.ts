/**
 * Per-service policy on real packets (issue 3): ACL drops and counts a client,
 * DSCP is set, the rate limit drops beyond its rate, and byte counters per
 * service·port equal the bytes sent, exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config, Service } from '../../appliance/model/config.generated.js';
import { hostIp } from '../../cli/lab/index.js';
import { engineLab, type EngineLab } from './helpers/engine-lab.js';
import { requireRoot } from './helpers/root.js';
import { udpBurst } from './helpers/udp-burst.js';

let t: EngineLab;
let config: Config;
const service = (name: string): Service => config.services.service.find((s) => s.name === name)!;

beforeAll(async () => {
  requireRoot();
  t = await engineLab({ tcpPorts: [80], udpPorts: [9, 5353] });
  config = t.lab.demoConfig();
  await t.load(config);
}, 120_000);

afterAll(async () => {
  await t?.down();
});

describe('per-service policy in the data plane', () => {
  it('bytes counted per service·port equal the bytes sent, exactly', async () => {
    const { W4 } = t.lab.plan.service;
    const before = (await t.engine.readCounters()).servicePorts.get('web-ids/9');
    const count = 200;
    const payload = 100;
    await t.lab.exec('cl', 'node', '-e', udpBurst(W4, 9, count, payload, 1));
    await expect.poll(async () => (await t.lab.serverLog('slo')).filter((l) => l.local === W4 && l.lport === 9).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(count);
    const after = (await t.engine.readCounters()).servicePorts.get('web-ids/9')!;
    const inBytes = after.in.bytes - (before?.in.bytes ?? 0);
    const inPackets = after.in.packets - (before?.in.packets ?? 0);
    expect(inPackets).toBe(count);
    // L3 bytes at ingress: IPv4 header 20 + UDP header 8 + payload.
    expect(inBytes).toBe(count * (20 + 8 + payload));
  });

  it('an ACL rule drops one client and counts it; removing the rule lets it through again', async () => {
    const { W1 } = t.lab.plan.service;
    const client = hostIp(t.lab.plan, 'cl');
    service('web').acl.rule.push({ seq: 10, action: 'deny', source: `${client}/32`, count: true });
    await t.load(config);
    const denied = await t.lab.tryExec('cl', ['curl', '-sS', '--max-time', '1', `http://${W1}/`], { timeoutMs: 5000 });
    expect(denied.code).not.toBe(0);
    const counters = await t.engine.readCounters();
    expect(counters.acl.get('acl/web/10')?.packets).toBeGreaterThan(0);
    // Other services of the same client are untouched by web's ACL.
    const other = await t.lab.tryExec('cl', ['curl', '-sS', '--max-time', '3', `http://${t.lab.plan.service.W2}/`], { timeoutMs: 5000 });
    expect(other.code, other.stderr).toBe(0);
    service('web').acl.rule = [];
    await t.load(config);
    const allowed = await t.lab.tryExec('cl', ['curl', '-sS', '--max-time', '3', `http://${W1}/`], { timeoutMs: 5000 });
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it('DSCP is set on the service packets toward the server', async () => {
    const { W2 } = t.lab.plan.service;
    service('web-alias').dscp = 46;
    await t.load(config);
    const cap = await t.lab.capture('sal', 'sal0', { direction: 'in', filter: 'tcp port 80' });
    const r = await t.lab.tryExec('cl', ['curl', '-sS', '--max-time', '3', `http://${W2}/`], { timeoutMs: 5000 });
    expect(r.code, r.stderr).toBe(0);
    const seen = await cap.waitFor((p) => p.dst === W2 && p.dport === 80);
    expect(seen.every((p) => p.dscp === 46)).toBe(true);
  });

  it('the rate limit drops beyond its rate instead of passing everything', async () => {
    const { W3 } = t.lab.plan.service;
    service('web-nat')['rate-limit'] = { 'packets-per-second': 20, burst: 5 };
    await t.load(config);
    await t.lab.clearServerLog('snat');
    const sent = 300;
    await t.lab.exec('cl', 'node', '-e', udpBurst(W3, 5353, sent, 20, 0));
    await new Promise((r) => setTimeout(r, 500));
    const got = (await t.lab.serverLog('snat')).filter((l) => l.proto === 'udp' && l.lport === 5353).length;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(sent / 2);
  });
});
