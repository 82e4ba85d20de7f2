/**
 * Synthetic configurations with N services for benchmarks: each service has
 * its own service IP and port, a two-legged firewall from a pool and a server,
 * with an IDS copy on every tenth service — a realistic mix, not one row copied.
 */
import type { Config } from '../appliance/model/config.generated.js';
import { defaultSystem } from '../mgmt/schema/defaults.js';

const mac = (n: number) => `02:${[(n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255, 1].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

export function scaleConfig(services: number, options: { servers?: number; uplinkGatewayMac?: string } = {}): Config {
  const servers = options.servers ?? 64;
  const config: Config = {
    system: defaultSystem(),
    interfaces: {
      interface: [
        { name: 'e0', role: 'uplink', address: [], gateway: { mac: options.uplinkGatewayMac ?? '02:00:00:00:00:fe' } },
        { name: 'e1', role: 'device-segment', address: [], gateway: {} },
        { name: 'e2', role: 'device-segment', address: [], gateway: {} },
        { name: 'e3', role: 'device-segment', address: [], gateway: {} },
      ],
    },
    devices: {
      device: [
        { name: 'fw-a', function: 'firewall', 'delivery-mode': 'transparent', 'admin-state': 'in-service', leg: [{ name: 'a0', interface: 'e1' }, { name: 'a1', interface: 'e2' }] },
        { name: 'ids', function: 'ids', 'delivery-mode': 'transparent', 'admin-state': 'in-service', leg: [{ name: 'ids', interface: 'e1', mac: '02:00:00:00:0d:01' }] },
        ...Array.from({ length: servers }, (_, i) => ({
          name: `srv${i}`,
          function: 'server' as const,
          'delivery-mode': 'loopback' as const,
          'admin-state': 'in-service' as const,
          leg: [{ name: `s${i}`, interface: 'e3', mac: mac(i + 1) }],
        })),
      ],
    },
    pools: { pool: [{ name: 'firewalls', function: 'firewall', member: ['fw-a'], 'load-sharing': false }] },
    packages: { package: [] },
    services: { service: [] },
  };
  for (let i = 0; i < services; i++) {
    config.services.service.push({
      name: `svc${i}`,
      customer: `cust${i % 1000}`,
      'service-ip': `10.${100 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`,
      port: [
        {
          port: 80,
          protocol: 'tcp',
          step: [
            { seq: 1, pool: 'firewalls', 'copy-to': [] },
            { seq: 2, device: `srv${i % servers}`, 'copy-to': i % 10 === 0 ? ['ids'] : [] },
          ],
        },
      ],
      acl: { 'default-action': 'permit', rule: [] },
    });
  }
  return config;
}
