/** dnsmasq's options and hosts file from the running configuration; the lease file parser. */
import { describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import { defaultSystem } from '../../mgmt/schema/defaults.js';
import { dnsmasqPlan, parseLeases } from '../../mgmt/names/dnsmasq-config.js';

const base = (): Config => ({
  system: defaultSystem(),
  interfaces: {
    interface: [
      { name: 'e0', role: 'uplink', address: [], gateway: {}, dhcp: { 'range-start': '10.0.0.10', 'range-end': '10.0.0.20', 'lease-time': 600 } },
      { name: 'e1', role: 'device-segment', address: ['10.1.0.1/24'], gateway: {}, dhcp: { 'range-start': '10.1.0.50', 'range-end': '10.1.0.60', 'lease-time': 3600 } },
    ],
  },
  devices: { device: [] },
  pools: { pool: [] },
  packages: { package: [] },
  services: { service: [] },
});

describe('dnsmasq plan', () => {
  it('writes one hosts line per service IP and listens where configured', () => {
    const c = base();
    c['service-names'] = { 'listen-address': ['192.0.2.53'], ttl: 5, name: [{ name: 'a.example.net', 'service-ip': ['10.9.0.1', '10.9.0.2'] }] };
    const p = dnsmasqPlan(c, { dir: '/d', defaultListen: ['198.51.100.1'] });
    expect(p.needed).toBe(true);
    expect(p.hosts).toBe('10.9.0.1 a.example.net\n10.9.0.2 a.example.net\n');
    expect(p.args).toEqual(expect.arrayContaining(['--no-resolv', '--no-hosts', '--conf-file=/dev/null', '--keep-in-foreground', '--listen-address=192.0.2.53', '--local-ttl=5', '--addn-hosts=/d/service-names.hosts']));
    expect(p.args).not.toContain('--listen-address=198.51.100.1');
  });

  it('listens on the management interfaces when nothing else names an address', () => {
    const c = base();
    c.interfaces.interface.push({ name: 'm0', role: 'management', address: ['192.0.2.7/24'], gateway: {} });
    c['service-names'] = { 'listen-address': [], ttl: 5, name: [] };
    expect(dnsmasqPlan(c, { dir: '/d' }).args).toContain('--listen-address=192.0.2.7');
  });

  it('serves DHCP on device segments only, never on the uplink', () => {
    const p = dnsmasqPlan(base(), { dir: '/d' });
    expect(p.needed).toBe(true);
    expect(p.args).toContain('--dhcp-range=set:e1,10.1.0.50,10.1.0.60,3600');
    expect(p.args).toContain('--interface=e1');
    expect(p.args.some((a) => a.includes('e0'))).toBe(false);
    // No names: DNS is off (port 0).
    expect(p.args).toContain('--port=0');
  });

  it('needs nothing without names or DHCP', () => {
    const c = base();
    for (const i of c.interfaces.interface) delete i.dhcp;
    expect(dnsmasqPlan(c, { dir: '/d' }).needed).toBe(false);
  });

  it('parses dnsmasq lease lines', () => {
    expect(parseLeases('1700000000 02:AA:00:00:00:01 10.1.0.50 dev1 *\n1700000001 02:aa:00:00:00:02 10.1.0.51 * 01:02\n\n')).toEqual([
      { expires: 1700000000, mac: '02:aa:00:00:00:01', ip: '10.1.0.50', hostname: 'dev1' },
      { expires: 1700000001, mac: '02:aa:00:00:00:02', ip: '10.1.0.51', hostname: undefined },
    ]);
  });
});
