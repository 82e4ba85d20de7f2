/**
 * The lab's address and MAC plan: a pure function of the run id and options,
 * so configurations can be written before the lab is up.
 *
 *   cl ── rt ══ e0 ┐                         ┌ e1 ══ fw0 ┐
 *                  │   eng (no IPs; nft      │           br0  fw
 *   cl2 ══ e5 ─────┤   netdev ingress,       └ e2 ══ fw1 ┘
 *                  │   written by the engine) ── e3 ══ oa   (one-armed)
 *   slo ══ e6 ─────┤                          ── e4 ══ ids  (tap)
 *   sal ══ e7 ─────┤
 *   snat ═ e8 ─────┘
 *
 * Subnet 10.<net>.<k>.0/24 and fd00:<net>:<k>::/64 belong to engine port e<k>
 * (k = 3..8); .1 / ::1 there is a fake gateway that only exists as a permanent
 * neighbour entry carrying e<k>'s MAC, because the engine answers no ARP/ND.
 */

export const ROLES = ['eng', 'cl', 'rt', 'fw', 'oa', 'ids', 'slo', 'sal', 'snat', 'cl2'] as const;
export type Role = (typeof ROLES)[number];
export type HostRole = Exclude<Role, 'eng'>;
export type ServerRole = 'slo' | 'sal' | 'snat' | 'rt';
export const SERVER_ROLES: readonly ServerRole[] = ['slo', 'sal', 'snat', 'rt'];

/** Namespace names look like `vl3fa2-eng`; the pattern finds orphans after a crash. */
export const PREFIX_RE = /^vl([0-9a-f]{4})-$/;
export const NETNS_RE = /^vl[0-9a-f]{4}-[a-z0-9]+$/;
export const prefixOf = (runId: string): string => `vl${runId}-`;

/**
 * Every lab on the machine keeps its state here. One fixed place on purpose:
 * the orphan sweep in cleanupStale() trusts that no state file elsewhere
 * claims a `vlXXXX-` namespace.
 */
export const STATE_DIR = '/run/vcn-lab';

export interface LabOptions {
  /** Four hex digits naming the run; random when absent. */
  runId?: string;
  /** Second octet of the 10.x plan (and the second group of fd00:x::), 1..254; 60 by default. */
  net?: number;
  /** Service IPs slo holds on lo (loopback mode); default W1, W4, W6. */
  loopbackIps?: string[];
  /** Service IPs sal holds as non-ARP aliases (alias mode); default W2. */
  aliasIps?: string[];
  /** TCP ports every server listens on; default 80, 8080, 8081. */
  tcpPorts?: number[];
  /** UDP ports every server echoes and records on; default 9, 5353, 9999. */
  udpPorts?: number[];
  /** Start the application servers (default true). */
  servers?: boolean;
  /** Start the IDS recorder (default true). */
  ids?: boolean;
  /** Keep GRO/GSO/TSO as the kernel sets them (default true); false turns them off on every veth, so packet counters count wire packets. */
  offloads?: boolean;
}

export interface IfacePlan {
  name: string;
  mac: string;
  /** Addresses with prefix length. */
  ipv4: string[];
  ipv6: string[];
  /** The engine port at the other end of the veth, if any. */
  enginePort?: string;
}

export interface GatewayPlan {
  dev: string;
  ipv4: string;
  ipv6: string;
  /** The MAC behind the gateway: an engine port for fake gateways, rt for cl. */
  mac: string;
  /** True when nothing owns the IP: it exists only as a permanent neighbour. */
  fake: boolean;
}

export interface HostPlan {
  role: HostRole;
  ns: string;
  ifaces: IfacePlan[];
  /** The default gateway (absent for fw, which is a bridge, and rt, which routes). */
  gateway?: GatewayPlan;
}

export interface EnginePortPlan {
  name: string;
  mac: string;
  role: 'uplink' | 'device-segment';
  peer: { role: HostRole; ns: string; ifname: string; mac: string };
}

export interface ServiceIps {
  W1: string;
  W2: string;
  W3: string;
  W4: string;
  W6: string;
}

export interface LabPlan {
  runId: string;
  prefix: string;
  net: number;
  ns: Record<Role, string>;
  engine: { ns: string; ports: EnginePortPlan[] };
  hosts: Record<HostRole, HostPlan>;
  /** Service IPs: W1/W4/W6 on slo's lo, W2 an alias on sal, W3 for the NAT service to snat. */
  service: ServiceIps;
  servicePrefix: { ipv4: string; ipv6: string };
  loopbackIps: string[];
  aliasIps: string[];
  /** An "internet" host on rt's lo (the upstream side of ISP mode); rt's server answers there. */
  upstream: { ipv4: string; ipv6: string };
  /** rt's fake next hop toward the engine (e0's MAC). */
  uplinkNextHop: { ipv4: string; ipv6: string; mac: string };
  /** cl2's prefix, routed by rt back toward the engine. */
  ispPrefix: { ipv4: string; ipv6: string };
  tcpPorts: number[];
  udpPorts: number[];
  servers: boolean;
  ids: boolean;
  offloads: boolean;
  stateFile: string;
  workDir: string;
}

const ROLE_INDEX: Record<Role, number> = { eng: 0, cl: 1, rt: 2, fw: 3, oa: 4, ids: 5, slo: 6, sal: 7, snat: 8, cl2: 9 };

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** 02:RR:RR:<role>:<interface>:00 — locally administered, unique per run and interface. */
export function labMac(runId: string, role: Role, index: number): string {
  return ['02', runId.slice(0, 2), runId.slice(2, 4), hex2(ROLE_INDEX[role]), hex2(index), '00'].join(':');
}

export function randomRunId(): string {
  return Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
}

/** Engine port number → the host behind it and that host's subnet number. */
const PORTS: { port: number; role: HostRole; ifname: string }[] = [
  { port: 0, role: 'rt', ifname: 'rt0' },
  { port: 1, role: 'fw', ifname: 'fw0' },
  { port: 2, role: 'fw', ifname: 'fw1' },
  { port: 3, role: 'oa', ifname: 'oa0' },
  { port: 4, role: 'ids', ifname: 'ids0' },
  { port: 5, role: 'cl2', ifname: 'cl20' },
  { port: 6, role: 'slo', ifname: 'slo0' },
  { port: 7, role: 'sal', ifname: 'sal0' },
  { port: 8, role: 'snat', ifname: 'snat0' },
];

export function planLab(opts: LabOptions = {}): LabPlan {
  const runId = (opts.runId ?? randomRunId()).toLowerCase();
  if (!/^[0-9a-f]{4}$/.test(runId)) throw new Error(`lab runId must be 4 hex digits, got '${runId}'`);
  const net = opts.net ?? 60;
  if (!Number.isInteger(net) || net < 1 || net > 254) throw new Error(`lab net must be 1..254, got ${net}`);
  const prefix = prefixOf(runId);
  const ns = Object.fromEntries(ROLES.map((r) => [r, `${prefix}${r}`])) as Record<Role, string>;
  const v4 = (k: number, h: number): string => `10.${net}.${k}.${h}`;
  // Written the way `ip` prints them, so plans and kernel output compare as strings.
  const v6 = (k: number, h: number): string => (k === 0 ? `fd00:${net}::${h.toString(16)}` : `fd00:${net}:${k}::${h.toString(16)}`);
  const mac = (role: Role, i: number): string => labMac(runId, role, i);

  const service: ServiceIps = { W1: v4(100, 1), W2: v4(100, 2), W3: v4(100, 3), W4: v4(100, 4), W6: v6(100, 1) };
  const enginePortMac = (k: number): string => mac('eng', k);

  // A single-legged host on engine port k: address .2 and a fake gateway .1 = e<k>.
  const leaf = (role: HostRole, k: number, ifname: string): HostPlan => ({
    role,
    ns: ns[role],
    ifaces: [{ name: ifname, mac: mac(role, 0), ipv4: [`${v4(k, 2)}/24`], ipv6: [`${v6(k, 2)}/64`], enginePort: `e${k}` }],
    gateway: { dev: ifname, ipv4: v4(k, 1), ipv6: v6(k, 1), mac: enginePortMac(k), fake: true },
  });

  const hosts: Record<HostRole, HostPlan> = {
    cl: {
      role: 'cl',
      ns: ns.cl,
      ifaces: [{ name: 'cl0', mac: mac('cl', 0), ipv4: [`${v4(1, 2)}/24`], ipv6: [`${v6(1, 2)}/64`] }],
      gateway: { dev: 'cl0', ipv4: v4(1, 1), ipv6: v6(1, 1), mac: mac('rt', 1), fake: false },
    },
    rt: {
      role: 'rt',
      ns: ns.rt,
      ifaces: [
        { name: 'rt0', mac: mac('rt', 0), ipv4: [`${v4(0, 1)}/24`], ipv6: [`${v6(0, 1)}/64`], enginePort: 'e0' },
        { name: 'rt1', mac: mac('rt', 1), ipv4: [`${v4(1, 1)}/24`], ipv6: [`${v6(1, 1)}/64`] },
      ],
    },
    fw: {
      role: 'fw',
      ns: ns.fw,
      ifaces: [
        { name: 'fw0', mac: mac('fw', 0), ipv4: [], ipv6: [], enginePort: 'e1' },
        { name: 'fw1', mac: mac('fw', 1), ipv4: [], ipv6: [], enginePort: 'e2' },
        { name: 'br0', mac: mac('fw', 0x0b), ipv4: [], ipv6: [] },
      ],
    },
    oa: leaf('oa', 3, 'oa0'),
    ids: leaf('ids', 4, 'ids0'),
    cl2: leaf('cl2', 5, 'cl20'),
    slo: leaf('slo', 6, 'slo0'),
    sal: leaf('sal', 7, 'sal0'),
    snat: leaf('snat', 8, 'snat0'),
  };

  const ports: EnginePortPlan[] = PORTS.map(({ port, role, ifname }) => {
    const peer = hosts[role].ifaces.find((i) => i.name === ifname);
    if (!peer) throw new Error(`lab plan: ${role} has no ${ifname}`);
    return {
      name: `e${port}`,
      mac: enginePortMac(port),
      role: port === 0 ? 'uplink' : 'device-segment',
      peer: { role, ns: ns[role], ifname, mac: peer.mac },
    };
  });

  return {
    runId,
    prefix,
    net,
    ns,
    engine: { ns: ns.eng, ports },
    hosts,
    service,
    servicePrefix: { ipv4: `${v4(100, 0)}/24`, ipv6: `fd00:${net}:100::/64` },
    loopbackIps: opts.loopbackIps ?? [service.W1, service.W4, service.W6],
    aliasIps: opts.aliasIps ?? [service.W2],
    upstream: { ipv4: v4(200, 1), ipv6: v6(200, 1) },
    uplinkNextHop: { ipv4: v4(0, 254), ipv6: v6(0, 0xfe), mac: enginePortMac(0) },
    ispPrefix: { ipv4: `${v4(5, 0)}/24`, ipv6: `fd00:${net}:5::/64` },
    tcpPorts: opts.tcpPorts ?? [80, 8080, 8081],
    udpPorts: opts.udpPorts ?? [9, 5353, 9999],
    servers: opts.servers ?? true,
    ids: opts.ids ?? true,
    offloads: opts.offloads ?? true,
    stateFile: `${STATE_DIR}/${prefix.slice(0, -1)}.json`,
    workDir: `${STATE_DIR}/${prefix.slice(0, -1)}`,
  };
}

/** Strips the prefix length: "10.60.1.2/24" → "10.60.1.2". */
export const addrOf = (cidr: string): string => cidr.split('/')[0];

export const isIpv6 = (ip: string): boolean => ip.includes(':');

/** The first IPv4 / IPv6 address of a host's first data interface. */
export function hostIp(plan: LabPlan, role: HostRole, family: 4 | 6 = 4): string {
  const iface = plan.hosts[role].ifaces[0];
  const list = family === 4 ? iface.ipv4 : iface.ipv6;
  if (list.length === 0) throw new Error(`lab: ${role} has no IPv${family} address`);
  return addrOf(list[0]);
}

/** The engine port a host's first data interface is plugged into. */
export function enginePortOf(plan: LabPlan, role: HostRole, ifname?: string): EnginePortPlan {
  const port = plan.engine.ports.find((p) => p.peer.role === role && (ifname === undefined || p.peer.ifname === ifname));
  if (!port) throw new Error(`lab: ${role}${ifname ? `/${ifname}` : ''} is not attached to the engine`);
  return port;
}
