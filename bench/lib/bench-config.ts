/**
 * The engine's configuration for the benchmark: the synthetic N-service mix of
 * scale-config.ts (its interfaces e0..e3 are the engine ports here, its
 * firewall fw-a is the bridge on e1/e2) plus the three measured services, so
 * that the 10k and 100k runs carry the measured traffic through the very
 * maps that hold all the others.
 */
import type { Config, Service, Step } from '../../appliance/model/config.generated.js';
import { formatIssue } from '../../appliance/errors.js';
import { checkConfig } from '../../mgmt/schema/load-config.js';
import { scaleConfig } from '../scale-config.js';
import type { BenchNet } from './topology.js';

export const MEASURED = { hop: 'b-hop', chain: 'b-chain', ids: 'b-ids' } as const;

const step = (seq: number, target: { device: string }, copyTo: string[] = []): Step => ({ seq, ...target, 'copy-to': copyTo });

const service = (name: string, ip: string, ports: { port: number; protocol: 'udp' | 'tcp'; step: Step[] }[]): Service => ({
  name,
  'service-ip': ip,
  port: ports,
  acl: { 'default-action': 'permit', rule: [] },
});

/** `services` in all: the measured three plus synthetic ones. Validated and normalised like a commit. */
export function benchConfig(net: BenchNet, services: number): Config {
  const { w, udpPort, tcpPort } = net.plan;
  const config = scaleConfig(Math.max(0, services - 3), { uplinkGatewayMac: net.mac('ecl/c0'), servers: 8 });
  config.interfaces.interface.push({ name: 'e4', role: 'device-segment', address: [], gateway: {} });
  config.devices.device.push(
    { name: 'sink', function: 'server', 'delivery-mode': 'loopback', 'admin-state': 'in-service', leg: [{ name: 's0', interface: 'e3', mac: net.mac('esv/s0') }] },
    { name: 'tap', function: 'ids', 'delivery-mode': 'transparent', 'admin-state': 'in-service', leg: [{ name: 'ids0', interface: 'e4', mac: net.mac('eids/ids0') }] },
  );
  const viaFw = (copyTo: string[] = []): Step[] => [step(1, { device: 'fw-a' }), step(2, { device: 'sink' }, copyTo)];
  config.services.service.unshift(
    service(MEASURED.hop, w.hop, [{ port: udpPort, protocol: 'udp', step: [step(1, { device: 'sink' })] }]),
    service(MEASURED.chain, w.chain, [
      { port: udpPort, protocol: 'udp', step: viaFw() },
      { port: tcpPort, protocol: 'tcp', step: viaFw() },
    ]),
    // The copy on the server step: one copy per forward packet, like H's single mirror port.
    service(MEASURED.ids, w.ids, [{ port: udpPort, protocol: 'udp', step: viaFw(['tap']) }]),
  );
  const { config: checked, issues } = checkConfig(JSON.parse(JSON.stringify(config)));
  if (issues.length) throw new Error(`bench configuration invalid:\n${issues.slice(0, 5).map(formatIssue).join('\n')}`);
  return checked;
}
