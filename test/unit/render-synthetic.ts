/**
 * Synthetic sequence tables for scale tests and the apply benchmark: service k
 * has service IP 10.(100+k/65536).x.y port 80, chain firewall (two legs with
 * MACs) → server (16 loopback servers; every 4th service NAT to its own IP),
 * four rows per service as the compiler builds them. Hand-built to the
 * SequenceTable contract.
 */
import type { Row, SequenceTable, ServicePolicy } from '../../appliance/compile/sequence-table.js';
import type { DataplaneFacts } from '../../appliance/compile/render-facts.js';

export interface SyntheticInterfaces {
  /** Uplink (clients). */
  up: string;
  /** Firewall leg 0 (client side) and leg 1 (server side). */
  fw0: string;
  fw1: string;
  /** Server segment. */
  srv: string;
}

export const SYN_IFS: SyntheticInterfaces = { up: 'I0', fw0: 'I1', fw1: 'I2', srv: 'I3' };

export const SYN_MAC = {
  fw0: '02:5e:00:00:0f:00',
  fw1: '02:5e:00:00:0f:01',
  gw: '02:5e:00:00:00:fe',
  server: (j: number) => `02:5e:00:00:01:${j.toString(16).padStart(2, '0')}`,
};

export const serviceIp = (k: number) => `10.${100 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
export const natIp = (k: number) => `10.${200 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;

export interface SyntheticOptions {
  ifs?: SyntheticInterfaces;
  /** Every 10th service gets a DSCP, a rate limit, an ACL (in turn). */
  features?: boolean;
  /** Every 4th service uses NAT (default true). */
  nat?: boolean;
}

export function syntheticService(k: number, opts: SyntheticOptions = {}): { policy: ServicePolicy; rows: Row[] } {
  const ifs = opts.ifs ?? SYN_IFS;
  const w = serviceIp(k);
  const nat = (opts.nat ?? true) && k % 4 === 3;
  const s = nat ? natIp(k) : w;
  const j = k % 16;
  const srvMac = SYN_MAC.server(j);
  const service = `s${k}`;
  const protocol = k % 2 ? 'tcp' : 'any';
  const mode = nat ? 'nat' : 'loopback';
  const rows: Row[] = [
    {
      service,
      servicePort: 80,
      fromStep: 0,
      origin: 'client',
      receive: { interface: ifs.up, dstIp: w, port: { port: 80 }, protocol, direction: 'forward' },
      sends: [{ interface: ifs.fw0, mode: 'transparent', mac: SYN_MAC.fw0, ip: w, port: 80, copy: false, device: 'fw' }],
    },
    {
      service,
      servicePort: 80,
      fromStep: 1,
      origin: 'step 1 (fw)',
      receive: { interface: ifs.fw1, srcMac: SYN_MAC.fw1, dstIp: w, port: { port: 80 }, protocol, direction: 'forward' },
      sends: [{ interface: ifs.srv, mode, mac: srvMac, ip: s, port: 80, copy: false, device: `srv${j}` }],
    },
    {
      service,
      servicePort: 80,
      fromStep: 2,
      origin: `step 2 (srv${j})`,
      receive: { interface: ifs.srv, srcMac: srvMac, srcIp: s, port: { port: 80 }, protocol, direction: 'reverse' },
      sends: [{ interface: ifs.fw1, mode: 'transparent', mac: SYN_MAC.fw1, ip: w, port: 80, copy: false, device: 'fw' }],
    },
    {
      service,
      servicePort: 80,
      fromStep: 1,
      origin: 'step 1 (fw)',
      receive: { interface: ifs.fw0, srcMac: SYN_MAC.fw0, srcIp: w, port: { port: 80 }, protocol, direction: 'reverse' },
      sends: [{ interface: ifs.up, mode: 'router', mac: SYN_MAC.gw, ip: w, port: 80, copy: false }],
    },
  ];
  const f = opts.features ? k % 10 : -1;
  const policy: ServicePolicy = {
    service,
    keyedBy: 'destination',
    address: w,
    family: 4,
    clientInterface: ifs.up,
    ports: [{ port: 80 }],
    dscp: f === 1 ? 46 : undefined,
    rateLimit: f === 2 ? { packetsPerSecond: 1000, burst: 50 } : undefined,
    acl: f === 3 ? { defaultAction: 'permit', rules: [{ seq: 10, action: 'deny', source: '192.0.2.0/24', count: true }] } : { defaultAction: 'permit', rules: [] },
    resolved: { '80/1': 'fw', '80/2': `srv${j}` },
  };
  return { policy, rows };
}

/** Services [from, from + n). */
export function syntheticTable(n: number, opts: SyntheticOptions = {}, from = 0): SequenceTable {
  const table: SequenceTable = { rows: [], services: [] };
  for (let k = from; k < from + n; k++) {
    const { policy, rows } = syntheticService(k, opts);
    table.services.push(policy);
    for (const r of rows) table.rows.push(r);
  }
  return table;
}

export function syntheticFacts(ifs: SyntheticInterfaces = SYN_IFS, macs?: Record<string, string>): DataplaneFacts {
  return {
    interfaceMacs: macs ?? { [ifs.up]: '02:ee:00:00:00:00', [ifs.fw0]: '02:ee:00:00:00:01', [ifs.fw1]: '02:ee:00:00:00:02', [ifs.srv]: '02:ee:00:00:00:03' },
    deviceLegs: { fw: [ifs.fw0, ifs.fw1] },
  };
}
