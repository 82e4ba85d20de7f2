/**
 * VCN-MIB (mgmt/schema/VCN-MIB.txt) as data: the OIDs, and the tables built
 * from the running configuration, the rendered ruleset's rows, the billing
 * counters, the commit history and the device health events. Pure: the
 * caller gathers the inputs.
 */
import { parseSpan } from '../../appliance/compile/render-addr.js';
import type { RenderedRuleset } from '../../appliance/compile/render-model.js';
import type { Config, Service } from '../../appliance/model/config.generated.js';
import type { Billed, BilledCounters } from '../accounting/ledger.js';
import { clientCounterId, hopCounterId, svcCounterId } from '../accounting/billing.js';
import type { CommitInfo } from '../store/store.js';
import { VT, type Oid, type Value } from './agentx-pdu.js';
import { counter32, counter64, dateAndTime, fixedRow, gauge, int, octets, str, ticks, type MibData, type Row, type TableData } from './mib-tree.js';

/** enterprises.32473 is RFC 5612's documentation number: a placeholder (see the MIB's DESCRIPTION). */
export const VCN_MIB: Oid = [1, 3, 6, 1, 4, 1, 32473, 1];
const objects = [...VCN_MIB, 1];
export const OID = {
  notifications: [...VCN_MIB, 0],
  engine: [...objects, 1],
  serviceEntry: [...objects, 2, 1],
  hopEntry: [...objects, 3, 1],
  deviceEntry: [...objects, 4, 1],
  clientEntry: [...objects, 5, 1],
  commitEntry: [...objects, 6, 1],
  notify: [...objects, 7],
  deviceDown: [...VCN_MIB, 0, 1],
  deviceUp: [...VCN_MIB, 0, 2],
  failover: [...VCN_MIB, 0, 3],
  serviceUnavailable: [...VCN_MIB, 0, 4],
  configCommitted: [...VCN_MIB, 0, 5],
};
/** SNMPv2-MIB snmpTrapOID.0: the second varbind of every notification. */
export const SNMP_TRAP_OID: Oid = [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

export interface DeviceHealth {
  oper: 'up' | 'down';
  lastChange: number;
  failures: number;
  lastResponseUs?: number;
}

export interface MibInput {
  version: string;
  /** ms since the epoch when the daemon started. */
  startedAt: number;
  now: number;
  runningCommit: number | null;
  dataplaneLoaded: boolean;
  config: Config | undefined;
  ruleset: RenderedRuleset | undefined;
  counters: BilledCounters;
  commits: CommitInfo[];
  health: Map<string, DeviceHealth>;
}

/** Index components of an address (RFC 4001 encoding): type, length, octets. */
export function addressIndex(address: string): Oid {
  const span = parseSpan(address);
  const n = span.family === 4 ? 4 : 16;
  const out: number[] = [span.family === 4 ? 1 : 2, n];
  for (let i = n - 1; i >= 0; i--) out[2 + i] = Number((span.lo >> BigInt(8 * (n - 1 - i))) & 0xffn);
  return out;
}

/** The address a service is listed under: its service IP, or the network of its client prefix (ISP mode). */
export function serviceAddress(s: Service): string | undefined {
  return s['service-ip'] ?? s['source-keyed']?.['client-prefix'];
}

const FUNCTIONS = ['firewall', 'ids', 'ips', 'vpn', 'antivirus', 'proxy', 'load-balancer', 'server', 'router', 'other'];
const MODES = ['transparent', 'loopback', 'alias', 'nat', 'router', 'server-ip'];
const CLIENTS = ['netconf', 'tui', 'cli', 'system'];
const KINDS = ['commit', 'confirmed', 'rollback', 'revert', 'startup', 'failover', 'failback'];
const ZERO: Billed = { packets: 0n, bytes: 0n, since: 0 };

const byIndex = (a: { index: Oid }, b: { index: Oid }) => {
  const n = Math.min(a.index.length, b.index.length);
  for (let i = 0; i < n; i++) if (a.index[i] !== b.index[i]) return a.index[i] - b.index[i];
  return a.index.length - b.index.length;
};

function table(entry: Oid, columns: number[], rows: Row[]): TableData {
  rows.sort(byIndex);
  // Duplicate indexes (two services on one address and port cannot pass validation, but be safe): keep the first.
  const unique = rows.filter((r, i) => i === 0 || byIndex(rows[i - 1], r) !== 0);
  return { entry, columns, rows: unique };
}

export function buildMib(m: MibInput): MibData {
  const services = m.config?.services.service ?? [];
  const addrOf = new Map<string, Oid>();
  for (const s of services) {
    const a = serviceAddress(s);
    if (a) addrOf.set(s.name, addressIndex(a));
  }
  const since = (c: Billed) => dateAndTime(c.since || m.startedAt);
  const unavailable = new Set((m.ruleset?.unresolved ?? []).map((u) => u.service));

  // ---- services
  const svcRows: Row[] = [];
  for (const s of services) {
    const addr = addrOf.get(s.name);
    if (!addr) continue;
    const ports: (number | undefined)[] = s['source-keyed'] ? [undefined] : s.port.map((p) => p.port);
    for (const port of ports) {
      const cin = m.counters.get(svcCounterId(s.name, port, 'in')) ?? ZERO;
      const cout = m.counters.get(svcCounterId(s.name, port, 'out')) ?? ZERO;
      // One closure per row (not per cell): 10k services make 80k cells.
      const cell = (i: number): Value | undefined => {
        switch (i) {
          case 0:
            return str(s.name);
          case 1:
            return str(s.customer ?? '');
          case 2:
            return int(unavailable.has(s.name) ? 2 : 1);
          case 3:
            return counter64(cin.bytes);
          case 4:
            return counter64(cin.packets);
          case 5:
            return counter64(cout.bytes);
          case 6:
            return counter64(cout.packets);
          case 7:
            return since(cin.since > cout.since ? cin : cout);
          default:
            return undefined;
        }
      };
      svcRows.push({ index: [...addr, port ?? 0], cell });
    }
  }

  // ---- hops
  const hopRows: Row[] = [];
  const instances = new Map<string, number>();
  for (const row of m.ruleset?.rows.values() ?? []) {
    const addr = addrOf.get(row.service);
    if (!addr) continue;
    const dir = row.direction === 'forward' ? 1 : 2;
    const key = `${row.service}/${row.servicePort ?? 0}/${dir}/${row.fromStep}`;
    const inst = (instances.get(key) ?? 0) + 1;
    instances.set(key, inst);
    const c = m.counters.get(hopCounterId(row.id)) ?? ZERO;
    const cell = (i: number): Value | undefined => {
      switch (i) {
        case 0:
          return int(row.role === 'in' ? 1 : row.role === 'out' ? 2 : 3);
        case 1:
          return str(row.devices.join(',').slice(0, 255));
        case 2:
          return counter64(c.bytes);
        case 3:
          return counter64(c.packets);
        case 4:
          return since(c);
        default:
          return undefined;
      }
    };
    hopRows.push({ index: [...addr, row.servicePort ?? 0, dir, row.fromStep, inst], cell });
  }

  // ---- devices
  const devRows: Row[] = (m.config?.devices.device ?? []).map((d) => {
    const h = m.health.get(d.name);
    return fixedRow([...Buffer.from(d.name, 'utf8')], [
        int(FUNCTIONS.indexOf(d.function) + 1),
        str(d.vendor ?? ''),
        int(MODES.indexOf(d['delivery-mode']) + 1),
        int(d['admin-state'] === 'maintenance' ? 2 : 1),
        int(h ? (h.oper === 'up' ? 1 : 2) : 3),
        gauge(h?.lastResponseUs ?? 0),
        counter32(h?.failures ?? 0),
        dateAndTime(h?.lastChange ?? m.startedAt),
        str(d.name),
    ]);
  });

  // ---- clients (counting ACL rules)
  const clientRows: Row[] = [];
  for (const a of m.ruleset?.aclCounters.values() ?? []) {
    const addr = addrOf.get(a.service);
    if (!addr) continue;
    const svc = services.find((s) => s.name === a.service);
    const rule = a.rule === 'deny' ? undefined : svc?.acl.rule.find((r) => r.seq === a.rule);
    const c = m.counters.get(clientCounterId(a.name)) ?? ZERO;
    clientRows.push(
      fixedRow(
        [...addr, a.rule === 'deny' ? 0 : a.rule],
        [str(a.service), str(rule?.source ?? ''), int(a.rule === 'deny' || rule?.action === 'deny' ? 2 : 1), counter64(c.bytes), counter64(c.packets), since(c)],
      ),
    );
  }

  // ---- commits
  const commitRows: Row[] = m.commits.map((c) => fixedRow([c.id], commitCells(c)));

  const scalar = (n: number, value: Value | undefined) => ({ oid: [...OID.engine, n], value });
  return {
    scalars: [
      scalar(1, str(m.version)),
      scalar(2, ticks((m.now - m.startedAt) / 10)),
      scalar(3, { type: VT.gauge32, value: m.runningCommit ?? 0 }),
      scalar(4, int(m.dataplaneLoaded ? 1 : 2)),
      // The data plane does not count rate-limit drops yet: no instance rather than a made-up zero.
      scalar(5, undefined),
      scalar(6, gauge(svcRows.length)),
    ],
    tables: [
      table(OID.serviceEntry, [4, 5, 6, 7, 8, 9, 10, 11], svcRows),
      table(OID.hopEntry, [4, 5, 6, 7, 8], hopRows),
      table(OID.deviceEntry, [2, 3, 4, 5, 6, 7, 8, 9, 10], devRows),
      table(OID.clientEntry, [2, 3, 4, 5, 6, 7], clientRows),
      table(OID.commitEntry, [2, 3, 4, 5, 6], commitRows),
    ],
  };
}

function commitCells(c: CommitInfo): Value[] {
  return [dateAndTime(c.time), str(c.user.slice(0, 63)), int(CLIENTS.indexOf(c.client) + 1), int(KINDS.indexOf(c.kind) + 1), octets(Buffer.from(c.comment, 'utf8').subarray(0, 255))];
}

/** The varbinds of vcnConfigCommitted for one commit (after snmpTrapOID.0). */
export function configCommittedVarbinds(c: CommitInfo): { oid: Oid; value: Value }[] {
  const cells = commitCells(c);
  return [
    { oid: SNMP_TRAP_OID, value: { type: VT.oid, value: OID.configCommitted } },
    { oid: [...OID.commitEntry, 3, c.id], value: cells[1] },
    { oid: [...OID.commitEntry, 4, c.id], value: cells[2] },
    { oid: [...OID.commitEntry, 5, c.id], value: cells[3] },
    { oid: [...OID.commitEntry, 6, c.id], value: cells[4] },
  ];
}

/** The varbinds of a device/service notification from a store event (kind device-down, device-up, failover, service-unavailable). */
export function eventVarbinds(kind: string, subject: string | null, detail: Record<string, unknown>): { oid: Oid; value: Value }[] | undefined {
  const text = (v: unknown) => str(String(v ?? '').slice(0, 255));
  const n = (i: number) => [...OID.notify, i, 0];
  const trap = (oid: Oid) => ({ oid: SNMP_TRAP_OID, value: { type: VT.oid, value: oid } as Value });
  switch (kind) {
    case 'device-down':
      return [trap(OID.deviceDown), { oid: n(1), value: text(subject) }, { oid: n(4), value: text(detail.reason) }];
    case 'device-up':
      return [trap(OID.deviceUp), { oid: n(1), value: text(subject) }, { oid: n(4), value: text(detail.reason) }];
    case 'failover':
      return [trap(OID.failover), { oid: n(1), value: text(subject) }, { oid: n(2), value: text(detail.alternate) }, { oid: n(3), value: text(detail.service) }];
    case 'service-unavailable':
      return [trap(OID.serviceUnavailable), { oid: n(3), value: text(subject) }, { oid: n(4), value: text(detail.reason) }];
    default:
      return undefined;
  }
}
