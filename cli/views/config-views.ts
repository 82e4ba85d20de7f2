/**
 * Plain summaries of a configuration that both front ends show: services with
 * their chains hop by hop, devices, pools, interfaces. Pure functions.
 */
import type { Config, Service, Step } from '../../appliance/model/config.generated.js';
import type { ServicePortState } from '../netconf-client/client.js';

export interface ChainView {
  port: string;
  protocol: string;
  range?: string;
  /** Hops in order: "fw", "pool firewalls", with taps as "+ids". */
  hops: string[];
}

export interface ServiceView {
  name: string;
  serviceIp: string;
  customer: string;
  package: string;
  description: string;
  chains: ChainView[];
  aclRules: number;
}

const hop = (s: Step) => `${s.device ?? `pool ${s.pool}`}${s['copy-to'].length ? ` +${s['copy-to'].join('+')}` : ''}${s['translate-port'] ? ` ->:${s['translate-port']}` : ''}`;

export function serviceView(s: Service): ServiceView {
  const chains: ChainView[] = s['source-keyed']
    ? [{ port: 'any', protocol: s['source-keyed'].protocol, hops: [`from ${s['source-keyed']['client-prefix']}`, ...s['source-keyed'].step.map(hop), s['source-keyed'].upstream] }]
    : s.port.map((p) => ({ port: String(p.port), protocol: p.protocol, ...(p.range ? { range: `${p.range.low}-${p.range.high}` } : {}), hops: [...p.step].sort((a, b) => a.seq - b.seq).map(hop) }));
  return {
    name: s.name,
    serviceIp: s['service-ip'] ?? (s['source-keyed'] ? `src ${s['source-keyed']['client-prefix']}` : ''),
    customer: s.customer ?? '',
    package: s.package ?? '',
    description: s.description ?? '',
    chains,
    aclRules: s.acl.rule.length,
  };
}

export function servicesView(c: Config): ServiceView[] {
  return c.services.service.map(serviceView);
}

export interface DeviceView {
  name: string;
  function: string;
  mode: string;
  ip: string;
  adminState: string;
  legs: string;
  pools: string[];
}

export function devicesView(c: Config): DeviceView[] {
  return c.devices.device.map((d) => ({
    name: d.name,
    function: d.function,
    mode: d['delivery-mode'],
    ip: d.ip ?? '',
    adminState: d['admin-state'],
    legs: d.leg.map((l) => `${l.name}@${l.interface}`).join(' '),
    pools: c.pools.pool.filter((p) => p.member.includes(d.name)).map((p) => p.name),
  }));
}

/** Counters summed per service (all its ports), busiest first. */
export function trafficByService(ports: ServicePortState[]): { service: string; packets: number; bytes: number }[] {
  const m = new Map<string, { packets: number; bytes: number }>();
  for (const p of ports) {
    const t = m.get(p.service) ?? { packets: 0, bytes: 0 };
    t.packets += p.in.packets + p.out.packets;
    t.bytes += p.in.bytes + p.out.bytes;
    m.set(p.service, t);
  }
  return [...m].map(([service, t]) => ({ service, ...t })).sort((a, b) => b.bytes - a.bytes || a.service.localeCompare(b.service));
}

/** 1234567 → "1.2M" (fits narrow columns). */
export function human(n: number): string {
  if (n < 1000) return String(n);
  const units = ['k', 'M', 'G', 'T', 'P'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}
