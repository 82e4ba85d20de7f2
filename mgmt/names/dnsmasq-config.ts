/**
 * What dnsmasq runs with, from the running configuration: the service names
 * as an --addn-hosts file (one line per service IP: dnsmasq answers a name
 * with every address, rotating their order: round-robin) and DHCP ranges per
 * device-segment interface that has a dhcp block. Pure; the process is
 * dnsmasq-process.ts. Names are re-read on SIGHUP; listen addresses and DHCP
 * ranges are command-line options, so a change there restarts dnsmasq.
 */
import { join } from 'node:path';
import type { Config } from '../../appliance/model/config.generated.js';

export interface DnsmasqPlan {
  /** Command-line options (after the program name); equal options mean a SIGHUP is enough. */
  args: string[];
  /** The --addn-hosts file. */
  hosts: string;
  /** Whether anything is to be served at all. */
  needed: boolean;
}

export interface DnsmasqPaths {
  dir: string;
  /** Listen addresses when service-names names none (the engine's management addresses). */
  defaultListen?: string[];
  /** DNS port (53 unless a test says otherwise). */
  port?: number;
}

export const hostsFile = (dir: string) => join(dir, 'service-names.hosts');
export const leaseFile = (dir: string) => join(dir, 'dnsmasq.leases');

export function dnsmasqPlan(config: Config | undefined, p: DnsmasqPaths): DnsmasqPlan {
  const names = config?.['service-names'];
  const dhcp = (config?.interfaces.interface ?? []).filter((i) => i.dhcp && i.role !== 'uplink');
  const lines: string[] = [];
  for (const n of names?.name ?? []) for (const ip of n['service-ip']) lines.push(`${ip} ${n.name}`);
  const args = [
    '--keep-in-foreground',
    '--no-resolv',
    '--no-hosts',
    '--conf-file=/dev/null',
    '--user=root',
    '--group=root',
    '--pid-file=',
    '--log-facility=-',
    '--bind-interfaces',
    `--addn-hosts=${hostsFile(p.dir)}`,
    `--local-ttl=${names?.ttl ?? 5}`,
    `--port=${names ? p.port ?? 53 : 0}`,
  ];
  if (names) {
    // Configured addresses, else the daemon's, else the addresses of the management interfaces.
    const management = (config?.interfaces.interface ?? []).filter((i) => i.role === 'management').flatMap((i) => i.address.map((a) => a.split('/')[0]));
    const listen = names['listen-address'].length ? names['listen-address'] : p.defaultListen?.length ? p.defaultListen : management;
    for (const a of [...listen].sort()) args.push(`--listen-address=${a}`);
  }
  if (dhcp.length) {
    args.push(`--dhcp-leasefile=${leaseFile(p.dir)}`, '--dhcp-authoritative');
    for (const i of [...dhcp].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const d = i.dhcp!;
      // Serve exactly the configured device segments: DHCP on the uplink would hand addresses to clients.
      args.push(`--interface=${i.name}`, `--dhcp-range=set:${i.name},${d['range-start']},${d['range-end']},${d['lease-time']}`);
    }
  }
  return { args, hosts: lines.length ? `${lines.join('\n')}\n` : '', needed: !!names || dhcp.length > 0 };
}

/** One line of dnsmasq's lease file: "<expiry> <mac> <ip> <hostname|*> <client-id|*>". */
export interface Lease {
  expires: number;
  mac: string;
  ip: string;
  hostname?: string;
}

export function parseLeases(text: string): Lease[] {
  const out: Lease[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !/^\d+$/.test(f[0])) continue;
    out.push({ expires: Number(f[0]), mac: f[1].toLowerCase(), ip: f[2], hostname: f[3] === '*' ? undefined : f[3] });
  }
  return out;
}
