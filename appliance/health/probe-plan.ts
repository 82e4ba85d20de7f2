/**
 * Which probe checks a device, from its configuration (pure): a heartbeat
 * frame through a two-legged transparent device, a half-open TCP handshake
 * to a server's own address and service port, an ICMP echo, or none.
 */
import type { Config, Device } from '../model/config.generated.js';
import type { ProbeRequest } from './prober.js';
import { HEALTH_PROBE_SOURCE } from '../probe-sources.js';

export type CheckKind = 'tcp' | 'heartbeat' | 'icmp' | 'none';

export interface CheckSettings {
  kind: CheckKind;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  port?: number;
}

/** The health probes' source (RFC 2544 benchmarking range): devices route their replies to it via their gateway, the engine. */
export const PROBE_SOURCE = HEALTH_PROBE_SOURCE;

const SERVER_MODES = new Set(['loopback', 'alias', 'nat', 'server-ip']);

export function checkSettings(device: Device): CheckSettings {
  const h = device['health-check'];
  let kind = (h?.kind ?? 'auto') as CheckKind | 'auto';
  if (kind === 'auto') {
    if (device['delivery-mode'] === 'transparent' && device.leg.length === 2) kind = 'heartbeat';
    else if (SERVER_MODES.has(device['delivery-mode']) && device.ip && !device.ip.includes(':')) kind = 'tcp';
    else kind = 'none';
  }
  return { kind, intervalMs: h?.['interval-ms'] ?? 1000, timeoutMs: h?.['timeout-ms'] ?? 200, retries: h?.retries ?? 3, port: h?.port };
}

/** The TCP port a device serves: configured, else the port it gets in the first TCP service port that uses it; none when only UDP uses it. */
export function servicePortOf(config: Config, device: Device): number | undefined {
  const configured = device['health-check']?.port;
  if (configured) return configured;
  const pools = new Set(config.pools.pool.filter((p) => p.member.includes(device.name)).map((p) => p.name));
  for (const s of config.services.service) {
    for (const p of [...s.port].sort((a, b) => a.port - b.port)) {
      if (p.protocol === 'udp') continue;
      const step = p.step.find((st) => st.device === device.name || (st.pool !== undefined && pools.has(st.pool)));
      if (step) return step['translate-port'] ?? p.port;
    }
  }
  return undefined;
}

export type PlannedProbe = { request: ProbeRequest; settings: CheckSettings } | { skip: string; settings: CheckSettings };

/** The probe for a device given the engine's interface MACs; `skip` says why there is none. */
export function planProbe(config: Config, device: Device, interfaceMacs: Record<string, string>, kindOverride?: CheckKind): PlannedProbe {
  const settings = checkSettings(device);
  const kind = kindOverride ?? settings.kind;
  if (kind === 'none') return { skip: 'health checking is off for this device', settings };
  const first = device.leg[0];
  const last = device.leg[device.leg.length - 1];
  const srcMac = interfaceMacs[first.interface];
  if (!srcMac) return { skip: `engine interface ${first.interface} does not exist`, settings };
  if (kind === 'heartbeat') {
    if (device.leg.length < 2) return { skip: 'a heartbeat needs two legs', settings };
    // A bridge leg has no MAC: broadcast is flooded through it. A leg with a MAC receives the frame itself.
    return { request: { op: 'heartbeat', out: first.interface, in: last.interface, srcMac, dstMac: first.mac ?? 'ff:ff:ff:ff:ff:ff' }, settings };
  }
  if (!device.ip || device.ip.includes(':')) return { skip: `${kind} checks need an IPv4 device ip`, settings };
  if (!first.mac) return { skip: `${kind} checks need the MAC of leg ${first.name}`, settings };
  const base = { ifname: first.interface, srcMac, dstMac: first.mac, srcIp: PROBE_SOURCE, dstIp: device.ip };
  const port = kind === 'tcp' ? servicePortOf(config, device) : undefined;
  // A server only UDP services use has no port to handshake with: it is pinged instead.
  if (port === undefined) return { request: { op: 'icmp', ...base }, settings: { ...settings, kind: 'icmp' } };
  return { request: { op: 'tcp', ...base, port }, settings };
}
