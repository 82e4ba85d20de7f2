/**
 * Hand-built sequence tables in the shape of the SPEC §5 figures, written to
 * the SequenceTable contract (not through the compiler), for the renderer's
 * unit and golden tests. Symbols follow the figures: W1 the service IP, S1 a
 * server, FW0/FW1 firewall legs, GW the uplink's next hop.
 */
import type { DataplaneFacts } from '../../appliance/compile/render-facts.js';
import type { DeliveryMode } from '../../appliance/model/config.generated.js';
import type { PortMatch, Row, SequenceTable, ServicePolicy } from '../../appliance/compile/sequence-table.js';

export const W1 = '203.0.113.1';
export const W2 = '203.0.113.2';
export const S1 = '10.0.3.1';
export const M = {
  GW: '02:00:00:00:00:fe',
  S1: '02:00:00:00:0a:01',
  S2: '02:00:00:00:0a:02',
  FW0: '02:00:00:00:0f:00',
  FW1: '02:00:00:00:0f:01',
  IDS: '02:00:00:00:0d:01',
  ACC: '02:00:00:00:ac:01',
  UP: '02:00:00:00:ff:01',
};

export const FACTS: DataplaneFacts = {
  interfaceMacs: { I0: '02:ee:00:00:00:00', I1: '02:ee:00:00:00:01', I2: '02:ee:00:00:00:02', I3: '02:ee:00:00:00:03' },
  deviceLegs: { FW: ['I1', 'I2'], ACCESS: ['I0'], UPSTREAM: ['I3'] },
};

type Proto = 'tcp' | 'udp' | 'any';

export function policy(service: string, address: string, ports: PortMatch[], extra: Partial<ServicePolicy> = {}): ServicePolicy {
  return {
    service,
    keyedBy: 'destination',
    address,
    family: address.includes(':') ? 6 : 4,
    clientInterface: 'I0',
    ports,
    acl: { defaultAction: 'permit', rules: [] },
    resolved: {},
    ...extra,
  };
}

interface RowSpec {
  from: number;
  origin: string;
  iface: string;
  mac?: string;
  src?: string;
  dst?: string;
  port?: PortMatch;
  proto?: Proto;
  dir: 'forward' | 'reverse';
  sends: { iface: string; mode: DeliveryMode; mac?: string; ip?: string; port?: number; copy?: boolean; device?: string; nextHop?: string }[];
}

export function row(service: string, servicePort: number | undefined, r: RowSpec): Row {
  return {
    service,
    servicePort,
    fromStep: r.from,
    origin: r.origin,
    receive: { interface: r.iface, srcMac: r.mac, srcIp: r.src, dstIp: r.dst, port: r.port, protocol: r.proto ?? 'any', direction: r.dir },
    sends: r.sends.map((s) => ({ interface: s.iface, mode: s.mode, mac: s.mac, ip: s.ip, port: s.port, nextHop: s.nextHop, copy: s.copy ?? false, device: s.device })),
  };
}

const toClient = (ip: string, port?: number) => ({ iface: 'I0', mode: 'router' as const, mac: M.GW, ip, port });

/** Fig 6B, loopback/alias: two servers behind one W1, chosen by port. */
export function destLoopback(): SequenceTable {
  const rows: Row[] = [];
  for (const [port, mac, dev] of [
    [80, M.S1, 'S1'],
    [443, M.S2, 'S2'],
  ] as const) {
    const p = { port };
    rows.push(
      row('web', port, { from: 0, origin: 'client', iface: 'I0', dst: W1, port: p, proto: 'tcp', dir: 'forward', sends: [{ iface: 'I1', mode: 'loopback', mac, ip: W1, port, device: dev }] }),
      row('web', port, { from: 1, origin: `step 1 (${dev})`, iface: 'I1', mac, src: W1, port: p, proto: 'tcp', dir: 'reverse', sends: [toClient(W1, port)] }),
    );
  }
  return { rows, services: [policy('web', W1, [{ port: 80 }, { port: 443 }])] };
}

/** Fig 6B NAT with Fig 8 port translation: W1:80 → S1:8080, replies back to W1:80. */
export function natTranslate(): SequenceTable {
  return {
    rows: [
      row('app', 80, { from: 0, origin: 'client', iface: 'I0', dst: W1, port: { port: 80 }, dir: 'forward', sends: [{ iface: 'I1', mode: 'nat', mac: M.S1, ip: S1, port: 8080, device: 'S1' }] }),
      row('app', 80, { from: 1, origin: 'step 1 (S1)', iface: 'I1', mac: M.S1, src: S1, port: { port: 8080 }, dir: 'reverse', sends: [toClient(W1, 80)] }),
    ],
    services: [policy('app', W1, [{ port: 80 }])],
  };
}

/** Fig 7-like: a bridge firewall (legs without MACs on I1/I2), then the server with an IDS tap copy. */
export function bridgeIds(): SequenceTable {
  const p = { port: 80 };
  const fw = (iface: string) => ({ iface, mode: 'transparent' as const, ip: W1, port: 80, device: 'FW' });
  const ids = { iface: 'I1', mode: 'transparent' as const, mac: M.IDS, ip: W1, port: 80, copy: true, device: 'IDS' };
  const app = { iface: 'I3', mode: 'loopback' as const, mac: M.S1, ip: W1, port: 80, device: 'APP1' };
  return {
    rows: [
      row('shop', 80, { from: 0, origin: 'client', iface: 'I0', dst: W1, port: p, dir: 'forward', sends: [fw('I1')] }),
      row('shop', 80, { from: 1, origin: 'step 1 (FW)', iface: 'I2', dst: W1, port: p, dir: 'forward', sends: [ids, app] }),
      row('shop', 80, { from: 2, origin: 'tap IDS of step 2 (APP1)', iface: 'I1', mac: M.IDS, dst: W1, port: p, dir: 'forward', sends: [app] }),
      row('shop', 80, { from: 2, origin: 'step 2 (APP1)', iface: 'I3', mac: M.S1, src: W1, port: p, dir: 'reverse', sends: [ids, fw('I2')] }),
      row('shop', 80, { from: 1, origin: 'step 1 (FW)', iface: 'I1', src: W1, port: p, dir: 'reverse', sends: [toClient(W1, 80)] }),
    ],
    services: [policy('shop', W1, [{ port: 80 }])],
  };
}

/** Fig 9B: port 21 owns 1025–1125 and port 2000 owns 1126–1300, through a one-armed firewall. */
export function portRange(): SequenceTable {
  const rows: Row[] = [];
  for (const pm of [
    { port: 21, range: { low: 1025, high: 1125 } },
    { port: 2000, range: { low: 1126, high: 1300 } },
  ]) {
    const port = pm.port;
    rows.push(
      row('ftp', port, { from: 0, origin: 'client', iface: 'I0', dst: W1, port: pm, proto: 'tcp', dir: 'forward', sends: [{ iface: 'I1', mode: 'transparent', mac: M.FW0, ip: W1, port, device: 'FW' }] }),
      row('ftp', port, { from: 1, origin: 'step 1 (FW)', iface: 'I1', mac: M.FW0, dst: W1, port: pm, proto: 'tcp', dir: 'forward', sends: [{ iface: 'I3', mode: 'loopback', mac: M.S1, ip: W1, port, device: 'APP1' }] }),
      row('ftp', port, { from: 2, origin: 'step 2 (APP1)', iface: 'I3', mac: M.S1, src: W1, port: pm, proto: 'tcp', dir: 'reverse', sends: [{ iface: 'I1', mode: 'transparent', mac: M.FW0, ip: W1, port, device: 'FW' }] }),
      row('ftp', port, { from: 1, origin: 'step 1 (FW)', iface: 'I1', mac: M.FW0, src: W1, port: pm, proto: 'tcp', dir: 'reverse', sends: [toClient(W1, port)] }),
    );
  }
  return { rows, services: [policy('ftp', W1, [{ port: 21, range: { low: 1025, high: 1125 } }, { port: 2000, range: { low: 1126, high: 1300 } }])] };
}

/** IPv6 NAT: [2001:db8::100]:80 → [2001:db8:1::10]:80, the uplink next hop resolved from the neighbour facts. */
export function ipv6Nat(): SequenceTable {
  const w = '2001:db8::100';
  const s = '2001:db8:1::10';
  return {
    rows: [
      row('v6', 80, { from: 0, origin: 'client', iface: 'I0', dst: w, port: { port: 80 }, proto: 'udp', dir: 'forward', sends: [{ iface: 'I1', mode: 'nat', mac: M.S1, ip: s, port: 80, device: 'S1' }] }),
      row('v6', 80, {
        from: 1,
        origin: 'step 1 (S1)',
        iface: 'I1',
        mac: M.S1,
        src: s,
        port: { port: 80 },
        proto: 'udp',
        dir: 'reverse',
        sends: [{ iface: 'I0', mode: 'router', nextHop: '2001:db8:ffff::1', ip: w, port: 80 }],
      }),
    ],
    services: [policy('v6', w, [{ port: 80 }])],
  };
}

export const IPV6_FACTS: DataplaneFacts = { ...FACTS, neighbors: { I0: { '2001:db8:ffff::1': '02:00:00:00:00:f6' } } };

/** ISP mode (Fig 23): the client prefix selects the chain; a bridge firewall between I1 and I2. */
export function sourceKeyed(): SequenceTable {
  const c = '100.64.10.0/24';
  const fw = (iface: string) => ({ iface, mode: 'transparent' as const, device: 'FW' });
  return {
    rows: [
      row('isp', undefined, { from: 0, origin: 'client side (ACCESS)', iface: 'I0', mac: M.ACC, src: c, dir: 'forward', sends: [fw('I1')] }),
      row('isp', undefined, { from: 1, origin: 'step 1 (FW)', iface: 'I2', src: c, dir: 'forward', sends: [{ iface: 'I3', mode: 'router', mac: M.UP, device: 'UPSTREAM' }] }),
      row('isp', undefined, { from: -1, origin: 'upstream (UPSTREAM)', iface: 'I3', mac: M.UP, dst: c, dir: 'reverse', sends: [fw('I2')] }),
      row('isp', undefined, { from: 1, origin: 'step 1 (FW)', iface: 'I1', dst: c, dir: 'reverse', sends: [{ iface: 'I0', mode: 'router', mac: M.ACC, device: 'ACCESS' }] }),
    ],
    services: [{ ...policy('isp', c, []), keyedBy: 'source' }],
  };
}

/** Fig 13 ACL, Fig 18 DSCP and overload protection on one table: three services sharing one server. */
export function policies(): SequenceTable {
  const svc = (name: string, w: string): Row[] => [
    row(name, 80, { from: 0, origin: 'client', iface: 'I0', dst: w, port: { port: 80 }, proto: 'tcp', dir: 'forward', sends: [{ iface: 'I1', mode: 'loopback', mac: M.S1, ip: w, port: 80, device: 'S1' }] }),
    row(name, 80, { from: 1, origin: 'step 1 (S1)', iface: 'I1', mac: M.S1, src: w, port: { port: 80 }, proto: 'tcp', dir: 'reverse', sends: [toClient(w, 80)] }),
  ];
  return {
    rows: [...svc('guarded', W1), ...svc('marked', W2), ...svc('limited', '203.0.113.3')],
    services: [
      policy('guarded', W1, [{ port: 80 }], {
        acl: {
          defaultAction: 'deny',
          rules: [
            { seq: 10, action: 'permit', source: '192.0.2.0/24', count: true },
            { seq: 20, action: 'deny', source: '192.0.2.128/25', count: true },
            { seq: 30, action: 'permit', source: '198.51.100.0/24', count: false },
            { seq: 40, action: 'deny', source: '198.51.100.7/32', count: true },
          ],
        },
      }),
      policy('marked', W2, [{ port: 80 }], { dscp: 46 }),
      policy('limited', '203.0.113.3', [{ port: 80 }], { rateLimit: { packetsPerSecond: 1000, burst: 50 } }),
    ],
  };
}

/** Every table above at once, as one engine would run them. */
export function everything(): SequenceTable {
  const parts = [destLoopback(), natTranslate(), bridgeIds(), portRange(), sourceKeyed(), policies()];
  // Give the services of one figure their own addresses so that they can share the engine.
  const renamed = parts.map((t, i) => {
    const shift = (ip: string | undefined) => (ip && ip.startsWith('203.0.113.') ? `198.18.${i}.${ip.split('.')[3]}` : ip);
    return {
      rows: t.rows.map((r) => ({
        ...r,
        receive: { ...r.receive, srcIp: shift(r.receive.srcIp), dstIp: shift(r.receive.dstIp) },
        sends: r.sends.map((s) => ({ ...s, ip: shift(s.ip) })),
      })),
      services: t.services.map((p) => ({ ...p, address: shift(p.address)! })),
    };
  });
  const v6 = ipv6Nat();
  return { rows: [...renamed.flatMap((t) => t.rows), ...v6.rows], services: [...renamed.flatMap((t) => t.services), ...v6.services] };
}

/** The hand-built tables with golden rulesets (test/golden/render), each with its facts. */
export const GOLDEN_TABLES: Record<string, [() => SequenceTable, DataplaneFacts]> = {
  'dest-loopback': [destLoopback, FACTS],
  'nat-translate': [natTranslate, FACTS],
  'bridge-ids': [bridgeIds, FACTS],
  'port-range': [portRange, FACTS],
  'ipv6-nat': [ipv6Nat, IPV6_FACTS],
  'source-keyed': [sourceKeyed, FACTS],
  'acl-dscp-limit': [policies, FACTS],
  everything: [everything, IPV6_FACTS],
};
