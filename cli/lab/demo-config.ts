/**
 * A VCN configuration (YANG module `vcn`) for the lab: what `vcn start` loads
 * and what the chain tests start from. Built from the plan, so it can be
 * written before the lab is up.
 */
import type { Config, Device, Interface, Port, Service, Step } from '../../appliance/model/config.generated.js';
import { defaultSystem } from '../../mgmt/schema/defaults.js';
import { FW_BLOCKED } from './rulesets.js';
import { enginePortOf, hostIp } from './topology.js';
import type { HostRole, LabPlan } from './topology.js';

const step = (seq: number, target: { device: string } | { pool: string }, extra: Partial<Step> = {}): Step => ({
  seq,
  ...target,
  'copy-to': [],
  ...extra,
});

const port = (p: number, protocol: Port['protocol'], steps: Step[]): Port => ({ port: p, protocol, step: steps });

const service = (name: string, fields: Partial<Service>): Service => ({
  name,
  port: [],
  acl: { 'default-action': 'permit', rule: [] },
  ...fields,
});

/** A device with one leg on the engine port its host is plugged into. */
function oneLeg(plan: LabPlan, role: HostRole, fields: Omit<Device, 'name' | 'leg' | 'admin-state'>): Device {
  const p = enginePortOf(plan, role);
  return {
    name: role,
    'admin-state': 'in-service',
    ...fields,
    leg: [{ name: p.peer.ifname, interface: p.name, mac: p.peer.mac }],
  };
}

export function demoConfig(plan: LabPlan): Config {
  const { W1, W2, W3, W4, W6 } = plan.service;
  const rt0 = plan.hosts.rt.ifaces[0];

  const interfaces: Interface[] = plan.engine.ports.map((p) => ({
    name: p.name,
    role: p.role,
    address: [],
    mac: p.mac,
    // Replies to clients leave e0 toward rt, whose MAC is static (the engine answers no ARP).
    gateway: p.role === 'uplink' ? { ip: hostIp(plan, 'rt'), mac: rt0.mac } : {},
    description: `${p.peer.role} ${p.peer.ifname}`,
  }));

  const fw0 = enginePortOf(plan, 'fw', 'fw0');
  const fw1 = enginePortOf(plan, 'fw', 'fw1');
  const devices: Device[] = [
    oneLeg(plan, 'rt', {
      function: 'router',
      'delivery-mode': 'router',
      ip: hostIp(plan, 'rt'),
      description: 'upstream router toward the clients',
    }),
    {
      name: 'fw',
      function: 'firewall',
      vendor: 'linux',
      model: 'bridge',
      'delivery-mode': 'transparent',
      'admin-state': 'in-service',
      description: `transparent bridge; drops udp ${FW_BLOCKED.udp} and tcp ${FW_BLOCKED.tcp}`,
      // A bridge keeps the frames' source MAC: its legs have none.
      leg: [
        { name: 'fw0', interface: fw0.name },
        { name: 'fw1', interface: fw1.name },
      ],
    },
    oneLeg(plan, 'oa', {
      function: 'firewall',
      vendor: 'linux',
      model: 'one-armed',
      'delivery-mode': 'transparent',
      ip: hostIp(plan, 'oa'),
      description: 'one-armed firewall: routes back out of the leg it came in on',
    }),
    oneLeg(plan, 'ids', { function: 'ids', 'delivery-mode': 'transparent', ip: hostIp(plan, 'ids'), description: 'IDS tap' }),
    oneLeg(plan, 'slo', { function: 'server', 'delivery-mode': 'loopback', ip: hostIp(plan, 'slo'), description: 'service IPs on lo' }),
    oneLeg(plan, 'sal', { function: 'server', 'delivery-mode': 'alias', ip: hostIp(plan, 'sal'), description: 'service IPs as non-ARP aliases' }),
    oneLeg(plan, 'snat', { function: 'server', 'delivery-mode': 'nat', ip: hostIp(plan, 'snat'), description: 'NAT target' }),
    oneLeg(plan, 'cl2', {
      function: 'other',
      'delivery-mode': 'router',
      ip: hostIp(plan, 'cl2'),
      description: 'ISP-mode client network',
    }),
  ];

  const fwThenSlo = (): Step[] => [step(1, { device: 'fw' }), step(2, { device: 'slo' })];
  const services: Service[] = [
    service('web', {
      description: 'W1 through the firewall to the loopback server',
      package: 'secure-web',
      'service-ip': W1,
      port: [
        port(80, 'tcp', fwThenSlo()),
        port(FW_BLOCKED.tcp, 'tcp', fwThenSlo()),
        port(9, 'udp', fwThenSlo()),
        port(FW_BLOCKED.udp, 'udp', fwThenSlo()),
      ],
    }),
    service('web-alias', {
      description: 'W2 through the firewall pool to the alias server',
      'service-ip': W2,
      port: [port(80, 'tcp', [step(1, { pool: 'firewalls' }), step(2, { device: 'sal' })])],
    }),
    service('web-nat', {
      description: 'W3 to the NAT server; port 8000 is translated to 8080 (Fig 8)',
      'service-ip': W3,
      port: [
        port(80, 'tcp', [step(1, { device: 'oa' }), step(2, { device: 'snat' })]),
        port(8000, 'tcp', [step(1, { device: 'snat' }, { 'translate-port': 8080 })]),
        port(5353, 'udp', [step(1, { device: 'snat' })]),
      ],
    }),
    service('web-ids', {
      description: 'W4: the IDS gets a copy of what goes to and comes from the server (Fig 7)',
      package: 'monitored-web',
      'service-ip': W4,
      port: [
        port(80, 'tcp', [step(1, { device: 'fw' }), step(2, { device: 'slo' }, { 'copy-to': ['ids'] })]),
        port(9, 'udp', [step(1, { device: 'slo' }, { 'copy-to': ['ids'] })]),
      ],
    }),
    service('web6', {
      description: 'IPv6 service W6 through the firewall to the loopback server',
      'service-ip': W6,
      port: [port(80, 'tcp', fwThenSlo())],
    }),
    service('isp', {
      description: 'ISP mode (Fig 23): cl2 traffic goes through the firewall to the upstream router',
      'source-keyed': {
        'client-prefix': plan.ispPrefix.ipv4,
        'client-side': 'cl2',
        upstream: 'rt',
        protocol: 'any',
        step: [step(1, { device: 'fw' })],
      },
    }),
  ];

  return {
    system: defaultSystem(),
    interfaces: { interface: interfaces },
    devices: { device: devices },
    pools: { pool: [{ name: 'firewalls', function: 'firewall', member: ['fw', 'oa'], 'load-sharing': false }] },
    packages: {
      package: [
        { name: 'secure-web', function: ['firewall', 'server'], description: 'firewall, then the server' },
        { name: 'monitored-web', function: ['firewall', 'ids', 'server'], description: 'firewall, IDS copy, server' },
      ],
    },
    services: { service: services },
  };
}
