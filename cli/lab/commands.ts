/**
 * The bring-up as data: `ip -batch` lines and sysctls derived from the plan.
 * Pure, so the shape of the lab can be read (and tested) without root.
 */
import { addrOf, isIpv6, ROLES } from './topology.js';
import type { HostRole, LabPlan, Role } from './topology.js';

export function netnsAddLines(plan: LabPlan): string[] {
  return ROLES.map((r) => `netns add ${plan.ns[r]}`);
}

export function netnsDelLines(namespaces: string[]): string[] {
  return namespaces.map((n) => `netns del ${n}`);
}

/** Quiet IPv6 (no DAD, RA, RS, autoconf, link-local) and no reverse-path filter. */
const HOST_SYSCTLS = [
  'net.ipv6.conf.all.accept_dad=0',
  'net.ipv6.conf.default.accept_dad=0',
  'net.ipv6.conf.all.accept_ra=0',
  'net.ipv6.conf.default.accept_ra=0',
  'net.ipv6.conf.all.autoconf=0',
  'net.ipv6.conf.default.autoconf=0',
  'net.ipv6.conf.all.router_solicitations=0',
  'net.ipv6.conf.default.router_solicitations=0',
  // No link-local address: nothing to run DAD for, and no IPv6 redirects (they need one).
  'net.ipv6.conf.default.addr_gen_mode=1',
  'net.ipv4.conf.all.rp_filter=0',
  'net.ipv4.conf.default.rp_filter=0',
];

const NO_IPV6 = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];

const FORWARDING = [
  'net.ipv4.ip_forward=1',
  'net.ipv6.conf.all.forwarding=1',
  // A one-armed router sends packets out of the interface they came in on: no redirects.
  'net.ipv4.conf.all.send_redirects=0',
  'net.ipv4.conf.default.send_redirects=0',
];

/**
 * Alias mode: the service IP is on the data interface but must not be announced
 * or answered by ARP. arp_ignore=1 is not enough here, because the alias sits
 * on the very interface the request comes in on; 2 also requires the sender
 * to be inside the address's subnet, which for a /32 alias nobody is.
 */
const NON_ARP = [
  'net.ipv4.conf.all.arp_ignore=2',
  'net.ipv4.conf.default.arp_ignore=2',
  'net.ipv4.conf.all.arp_announce=2',
  'net.ipv4.conf.default.arp_announce=2',
];

/**
 * Sysctls set before the namespace has interfaces, so the `default` values
 * are inherited by the veths created next.
 */
export function sysctlsFor(role: Role): string[] {
  switch (role) {
    case 'eng':
      // The engine owns no addresses: it must not send ND/MLD into the chains.
      return NO_IPV6;
    case 'fw':
      return NO_IPV6;
    case 'rt':
    case 'oa':
      return [...HOST_SYSCTLS, ...FORWARDING];
    case 'sal':
      return [...HOST_SYSCTLS, ...NON_ARP];
    default:
      return HOST_SYSCTLS;
  }
}

/**
 * br_netfilter would run iptables hooks on bridged frames (10–13% pps, RESULTS
 * pitfall 2). The keys exist only when br_netfilter is loaded: set them with -e.
 */
export const BRIDGE_SYSCTLS = [
  'net.bridge.bridge-nf-call-iptables=0',
  'net.bridge.bridge-nf-call-ip6tables=0',
  'net.bridge.bridge-nf-call-arptables=0',
];

/**
 * Each veth is created with both ends already in their namespaces, so the
 * short names (e0, rt0, …) never meet in the root namespace and parallel labs
 * cannot collide.
 */
export function vethLines(plan: LabPlan): string[] {
  const lines = plan.engine.ports.map(
    (p) =>
      `link add ${p.name} netns ${plan.engine.ns} address ${p.mac} type veth ` +
      `peer name ${p.peer.ifname} netns ${p.peer.ns} address ${p.peer.mac}`,
  );
  const cl = plan.hosts.cl.ifaces[0];
  const rt1 = plan.hosts.rt.ifaces[1];
  lines.push(
    `link add ${cl.name} netns ${plan.ns.cl} address ${cl.mac} type veth ` +
      `peer name ${rt1.name} netns ${plan.ns.rt} address ${rt1.mac}`,
  );
  return lines;
}

const neigh = (ip: string, mac: string, dev: string): string =>
  `neigh replace ${ip} lladdr ${mac} dev ${dev} nud permanent`;

function addrLines(dev: string, ipv4: string[], ipv6: string[], extra = ''): string[] {
  return [
    ...ipv4.map((a) => `addr add ${a} dev ${dev}${extra}`),
    ...ipv6.map((a) => `addr add ${a} dev ${dev} nodad${extra}`),
  ];
}

const hostPrefix = (ip: string): string => (isIpv6(ip) ? `${ip}/128` : `${ip}/32`);

/** `ip -n NS -batch` lines that configure one namespace after its veths exist. */
export function configLines(plan: LabPlan, role: Role): string[] {
  const lines = ['link set lo up'];
  if (role === 'eng') {
    for (const p of plan.engine.ports) lines.push(`link set ${p.name} up`);
    return lines;
  }
  const host = plan.hosts[role];
  if (role === 'fw') {
    const br = host.ifaces.find((i) => i.name === 'br0');
    if (!br) throw new Error('lab plan: fw has no br0');
    // STP off: ports forward at once. No snooping: the bridge must not send queries of its own.
    lines.push(`link add br0 address ${br.mac} type bridge stp_state 0 mcast_snooping 0`);
    for (const i of host.ifaces) if (i.name !== 'br0') lines.push(`link set ${i.name} master br0`, `link set ${i.name} up`);
    lines.push('link set br0 up');
    return lines;
  }
  for (const i of host.ifaces) {
    lines.push(`link set ${i.name} up`);
    lines.push(...addrLines(i.name, i.ipv4, i.ipv6));
  }
  const gw = host.gateway;
  if (gw) {
    lines.push(neigh(gw.ipv4, gw.mac, gw.dev), neigh(gw.ipv6, gw.mac, gw.dev));
    lines.push(`route add default via ${gw.ipv4} dev ${gw.dev}`, `route add default via ${gw.ipv6} dev ${gw.dev}`);
  }
  switch (role) {
    case 'rt':
      lines.push(...rtLines(plan));
      break;
    case 'slo':
      for (const ip of plan.loopbackIps) lines.push(`addr add ${hostPrefix(ip)} dev lo${isIpv6(ip) ? ' nodad' : ''}`);
      break;
    case 'sal':
      for (const ip of plan.aliasIps)
        lines.push(`addr add ${hostPrefix(ip)} dev ${host.ifaces[0].name}${isIpv6(ip) ? ' nodad' : ''} noprefixroute`);
      break;
  }
  return lines;
}

function rtLines(plan: LabPlan): string[] {
  const [rt0, rt1] = plan.hosts.rt.ifaces;
  const cl = plan.hosts.cl.ifaces[0];
  const nh = plan.uplinkNextHop;
  return [
    `addr add ${plan.upstream.ipv4}/32 dev lo`,
    `addr add ${plan.upstream.ipv6}/128 dev lo nodad`,
    neigh(nh.ipv4, nh.mac, rt0.name),
    neigh(nh.ipv6, nh.mac, rt0.name),
    neigh(addrOf(cl.ipv4[0]), cl.mac, rt1.name),
    neigh(addrOf(cl.ipv6[0]), cl.mac, rt1.name),
    // Service addresses and the ISP clients live behind the engine.
    `route add ${plan.servicePrefix.ipv4} via ${nh.ipv4} dev ${rt0.name}`,
    `route add ${plan.servicePrefix.ipv6} via ${nh.ipv6} dev ${rt0.name}`,
    `route add ${plan.ispPrefix.ipv4} via ${nh.ipv4} dev ${rt0.name}`,
    `route add ${plan.ispPrefix.ipv6} via ${nh.ipv6} dev ${rt0.name}`,
    // Service IPs chosen outside the service prefix still have to reach the engine.
    ...[...new Set([...plan.loopbackIps, ...plan.aliasIps])]
      .filter((ip) => !inServicePrefix(plan, ip))
      .map((ip) => `route add ${hostPrefix(ip)} via ${isIpv6(ip) ? nh.ipv6 : nh.ipv4} dev ${rt0.name}`),
  ];
}

function inServicePrefix(plan: LabPlan, ip: string): boolean {
  return isIpv6(ip) ? ip.startsWith(`fd00:${plan.net}:100:`) : ip.startsWith(`10.${plan.net}.100.`);
}

/** Data interfaces of a namespace (for ethtool). */
export function dataIfaces(plan: LabPlan, role: Role): string[] {
  if (role === 'eng') return plan.engine.ports.map((p) => p.name);
  return plan.hosts[role as HostRole].ifaces.filter((i) => i.name !== 'br0').map((i) => i.name);
}
