/** Compiler behaviour beyond the golden tables: failover, ISP mode, IPv6, availability, determinism. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../appliance/compile/compile.js';
import type { Row } from '../../appliance/compile/sequence-table.js';
import { loadFixture } from '../helpers/config.js';

const fixture = (name: string) => loadFixture(join(import.meta.dirname, '../golden/compile', name));

describe('compile', () => {
  it('Fig 15C: a failed firewall is replaced by its pool alternate and nothing else changes', () => {
    const config = fixture('fig15c-failover.json');
    const before = compile(config);
    const after = compile(config, { failed: new Set(['F1']) });
    expect(before.services[0].resolved).toEqual({ '80/1': 'F1', '80/2': 'S1' });
    expect(after.services[0].resolved).toEqual({ '80/1': 'F2', '80/2': 'S1' });
    expect(after.rows).toHaveLength(before.rows.length);
    const changed = after.rows.filter((r, i) => JSON.stringify(r) !== JSON.stringify(before.rows[i]));
    // Rows that sent to F1 now send to F2 (both directions); rows that received from F1 now receive from F2.
    expect(changed.map((r) => `${r.origin} ${r.receive.direction}`)).toEqual(['client forward', 'step 1 (F2) forward', 'step 2 (S1) reverse', 'step 1 (F2) reverse']);
    const toFirewall = after.rows.find((r) => r.origin === 'client')!;
    expect(toFirewall.sends).toEqual([{ interface: 'I2', mode: 'transparent', mac: '02:00:00:00:0f:02', ip: '203.0.113.1', port: 80, copy: false, device: 'F2' }]);
    const toServer = after.rows.find((r) => r.receive.direction === 'forward' && r.fromStep === 1)!;
    expect(toServer.sends).toEqual(before.rows.find((r) => r.receive.direction === 'forward' && r.fromStep === 1)!.sends);
  });

  it('a device in maintenance is skipped like a failed one', () => {
    const config = fixture('fig15c-failover.json');
    config.devices.device[0]['admin-state'] = 'maintenance';
    expect(compile(config).services[0].resolved['80/1']).toBe('F2');
  });

  it('a pool with no member left makes the service unavailable, with the reason, and emits no rows', () => {
    const table = compile(fixture('fig15c-failover.json'), { failed: new Set(['F1', 'F2']) });
    expect(table.rows).toEqual([]);
    expect(table.services[0].unavailable).toBe('port 80 step 1: pool FIREWALL has no member in service');
  });

  it('a failed tap drops the copy but keeps the service', () => {
    const table = compile(fixture('fig7b-loopback.json'), { failed: new Set(['IDS']) });
    expect(table.services[0].unavailable).toBeUndefined();
    expect(table.rows.flatMap((r) => r.sends).some((s) => s.device === 'IDS')).toBe(false);
    expect(table.rows.some((r) => r.origin.startsWith('tap'))).toBe(false);
  });

  it('ISP mode: rows are keyed by the client prefix in both directions and end at the upstream router', () => {
    const { rows, services } = compile(fixture('isp-source-keyed.json'));
    expect(services[0]).toMatchObject({ keyedBy: 'source', address: '100.64.10.0/24', clientInterface: 'I0', family: 4 });
    const forward = rows.filter((r: Row) => r.receive.direction === 'forward');
    const reverse = rows.filter((r: Row) => r.receive.direction === 'reverse');
    expect(forward.every((r) => r.receive.srcIp === '100.64.10.0/24' && r.receive.dstIp === undefined && r.receive.port === undefined)).toBe(true);
    expect(reverse.every((r) => r.receive.dstIp === '100.64.10.0/24' && r.receive.srcIp === undefined)).toBe(true);
    expect(forward.at(-1)!.sends).toEqual([{ interface: 'I3', mode: 'router', mac: '02:00:00:00:ff:01', nextHop: '192.0.2.1', copy: false, device: 'UPSTREAM' }]);
    expect(reverse.at(-1)!.sends).toEqual([{ interface: 'I0', mode: 'router', mac: '02:00:00:00:ac:01', nextHop: '100.64.0.1', copy: false, device: 'ACCESS' }]);
    // The bridge firewall has no MACs: its legs are told apart by interface.
    expect(forward[1].receive).toEqual({ interface: 'I2', srcIp: '100.64.10.0/24', protocol: 'any', direction: 'forward' });
  });

  it('IPv6: the Fig 6B configuration compiles with IPv6 service and server addresses', () => {
    const { rows, services } = compile(fixture('fig6b-ipv6-nat.json'));
    expect(services[0].family).toBe(6);
    expect(rows[0].receive.dstIp).toBe('2001:db8:100::1');
    expect(rows[0].sends[0].ip).toBe('2001:db8:1::1');
    expect(rows[1].receive.srcIp).toBe('2001:db8:1::1');
    expect(rows[1].sends[0].ip).toBe('2001:db8:100::1');
  });

  it('is deterministic whatever the order of services, ports and steps in the input', () => {
    const config = fixture('fig6b-loopback.json');
    const shuffled = structuredClone(config);
    shuffled.services.service[0].port.reverse();
    shuffled.devices.device.reverse();
    expect(compile(shuffled)).toEqual(compile(config));
  });

  it('carries the service policy: ACL, DSCP and rate limit', () => {
    const config = fixture('fig6b-loopback.json');
    const s = config.services.service[0];
    s.dscp = 46;
    s['rate-limit'] = { 'packets-per-second': 1000, burst: 50 };
    s.acl.rule.push({ seq: 20, action: 'deny', source: '198.51.100.0/24', count: true }, { seq: 10, action: 'permit', source: '198.51.100.7/32', count: true });
    const [policy] = compile(config).services;
    expect(policy).toMatchObject({
      dscp: 46,
      rateLimit: { packetsPerSecond: 1000, burst: 50 },
      acl: { defaultAction: 'permit', rules: [{ seq: 10, action: 'permit' }, { seq: 20, action: 'deny' }] },
      ports: [{ port: 80 }, { port: 8080 }],
      clientInterface: 'I0',
    });
  });
});
