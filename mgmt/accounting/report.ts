/**
 * Usage for a time range from the accounting samples: per service·port (in
 * and out) and per client rule. Samples hold monotonic billing counters, so
 * usage is the sum of the rises between consecutive samples, starting at the
 * last sample at or before the range's start. A fall between two samples
 * means the row was re-created (new discontinuity): the later value is all
 * new usage. Pure over a read-only database handle.
 */
import type Database from 'better-sqlite3';
import { VcnError } from '../../appliance/errors.js';

export interface ServicePortUsage {
  service: string;
  port: string;
  inPackets: bigint;
  inBytes: bigint;
  outPackets: bigint;
  outBytes: bigint;
}

export interface ClientUsage {
  service: string;
  /** The ACL rule (sequence number), or "deny" for denied clients no counting rule names. */
  rule: string;
  packets: bigint;
  bytes: bigint;
}

export interface UsageReport {
  from: number;
  to: number;
  /** Samples the report was computed from. */
  samples: number;
  servicePorts: ServicePortUsage[];
  clients: ClientUsage[];
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);

/** Rise of a monotonic series (values in time order). */
function rise(values: bigint[]): bigint {
  let total = 0n;
  for (let i = 1; i < values.length; i++) total += values[i] >= values[i - 1] ? values[i] - values[i - 1] : values[i];
  return total;
}

export function usageReport(db: Database.Database, from: number, to: number): UsageReport {
  if (!(from <= to)) throw new VcnError('ACCOUNTING_RANGE', `the range starts (${new Date(from).toISOString()}) after it ends (${new Date(to).toISOString()})`);
  const subjects = db.prepare("SELECT DISTINCT scope, subject FROM accounting WHERE scope IN ('service-port','client') AND time <= ?").all(to) as { scope: string; subject: string }[];
  const series = db
    .prepare(
      `SELECT time, packets, bytes FROM accounting WHERE scope = ? AND subject = ? AND time <= ? AND time >= coalesce(
         (SELECT max(time) FROM accounting WHERE scope = ? AND subject = ? AND time <= ?), ?) ORDER BY time`,
    )
    .safeIntegers(true);
  const sp = new Map<string, ServicePortUsage>();
  const clients: ClientUsage[] = [];
  let samples = 0;
  for (const { scope, subject } of subjects) {
    const rows = series.all(scope, subject, to, scope, subject, from, from) as { time: bigint; packets: bigint; bytes: bigint }[];
    samples += rows.length;
    const packets = rise(rows.map((r) => U64(r.packets)));
    const bytes = rise(rows.map((r) => U64(r.bytes)));
    if (scope === 'service-port') {
      // subject: <service>/<port|->/<in|out>
      const [service, port, side] = subject.split('/');
      const key = `${service}/${port}`;
      let u = sp.get(key);
      if (!u) sp.set(key, (u = { service, port, inPackets: 0n, inBytes: 0n, outPackets: 0n, outBytes: 0n }));
      if (side === 'in') {
        u.inPackets += packets;
        u.inBytes += bytes;
      } else {
        u.outPackets += packets;
        u.outBytes += bytes;
      }
    } else {
      // subject: acl/<service>/<rule|deny>
      const [, service, rule] = subject.split('/');
      clients.push({ service, rule, packets, bytes });
    }
  }
  const byName = (a: { service: string }, b: { service: string }) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0);
  return {
    from,
    to,
    samples,
    servicePorts: [...sp.values()].sort((a, b) => byName(a, b) || a.port.localeCompare(b.port, 'en', { numeric: true })),
    clients: clients.sort((a, b) => byName(a, b) || a.rule.localeCompare(b.rule, 'en', { numeric: true })),
  };
}

const csvField = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** CSV: one section per kind, each with its own header line. */
export function reportCsv(r: UsageReport): string {
  const lines = ['kind,service,port_or_rule,in_packets,in_bytes,out_packets,out_bytes'];
  for (const u of r.servicePorts) lines.push(['service-port', u.service, u.port, u.inPackets, u.inBytes, u.outPackets, u.outBytes].map((v) => csvField(String(v))).join(','));
  for (const c of r.clients) lines.push(['client', c.service, c.rule, c.packets, c.bytes, '', ''].map((v) => csvField(String(v))).join(','));
  return `${lines.join('\n')}\n`;
}

/** JSON with counters as decimal strings (exact above 2^53). */
export function reportJson(r: UsageReport): string {
  return `${JSON.stringify(
    {
      from: new Date(r.from).toISOString(),
      to: new Date(r.to).toISOString(),
      samples: r.samples,
      servicePorts: r.servicePorts,
      clients: r.clients,
    },
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    2,
  )}\n`;
}
