/**
 * Debian's net-snmp command-line tools run inside a network namespace, with
 * their persistent state in a temporary directory (never /var/lib/snmp), and
 * their output (numeric OIDs, bare values) parsed into a map.
 */
import { runProcess } from '../../../appliance/run-process.js';

export const VCN = '.1.3.6.1.4.1.32473.1';
export const SVC_ENTRY = `${VCN}.1.2.1`;
export const HOP_ENTRY = `${VCN}.1.3.1`;
export const DEV_ENTRY = `${VCN}.1.4.1`;

export interface SnmpResult {
  code: number | null;
  stdout: string;
  stderr: string;
  values: Map<string, string>;
}

/** Runs `tool args…` in `ns` (numeric OIDs, quick print, numeric enums, raw timeticks). */
export async function snmpTool(ns: string, stateDir: string, tool: string, args: string[], timeoutMs = 60_000): Promise<SnmpResult> {
  const argv = ['ip', 'netns', 'exec', ns, 'env', `SNMP_PERSISTENT_DIR=${stateDir}`, 'MIBS=', tool, '-On', '-Oq', '-Oe', '-Ot', ...args];
  const r = await runProcess(argv, { timeoutMs });
  const stdout = r.stdout.toString();
  return { code: r.code, stdout, stderr: r.stderr, values: parseQuick(stdout) };
}

/** "OID value" lines (snmp tools with -Oq) → OID → value (strings without their quotes). */
export function parseQuick(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (!line.startsWith('.') || sp < 0) continue;
    let v = line.slice(sp + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    out.set(line.slice(0, sp), v);
  }
  return out;
}

/** The rows of a table column: index suffix → value. */
export function column(values: Map<string, string>, entry: string, col: number): Map<string, string> {
  const prefix = `${entry}.${col}.`;
  const out = new Map<string, string>();
  for (const [oid, v] of values) if (oid.startsWith(prefix)) out.set(oid.slice(prefix.length), v);
  return out;
}

/** Index suffix of an IPv4 service address and port (RFC 4001 encoding). */
export const svcIndex = (ipv4: string, port: number) => `1.4.${ipv4}.${port}`;
