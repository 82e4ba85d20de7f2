/**
 * Tracing a test flow through the engine (Fig 21 "trace test traffic"): a
 * separate small netdev table whose ingress chains run before the engine's
 * (priority -500) and set `meta nftrace` on the client's packets to the
 * service address and on packets back to the client; `nft monitor trace` in
 * the engine's namespace reports every rule they meet in the engine's table.
 * The table is removed when the time is up (also on errors).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { runProcess } from '../run-process.js';

export interface TraceHop {
  /** Interface the packet arrived on. */
  iif: string;
  /** Where the engine sent it: "fwd e1", "dup e4", or the final verdict ("drop", "accept"). */
  out: string[];
  src: string;
  dst: string;
  /** ms after the trace started. */
  at: number;
}

export interface TraceResult {
  hops: TraceHop[];
  /** Raw `nft monitor trace` lines (the first 500). */
  lines: string[];
}

const nsArgv = (netns: string | undefined, argv: string[]) => (netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv);

export async function traceFlow(o: { netns?: string; interfaces: string[]; client: string; serviceIp: string; ms: number; onReady?: () => void }): Promise<TraceResult> {
  const fam = isIP(o.client);
  if (!fam || isIP(o.serviceIp) !== fam) throw new Error('client and service address must be IP addresses of one family');
  const ip = fam === 6 ? 'ip6' : 'ip';
  const table = `vcntrace_${randomBytes(3).toString('hex')}`;
  const chains = o.interfaces
    .map(
      (ifname, i) =>
        `  chain t${i} {\n    type filter hook ingress device "${ifname}" priority -500; policy accept;\n` +
        `    ${ip} saddr ${o.client} ${ip} daddr ${o.serviceIp} meta nftrace set 1\n    ${ip} daddr ${o.client} meta nftrace set 1\n  }`,
    )
    .join('\n');
  const monitor = spawn(nsArgv(o.netns, ['nft', 'monitor', 'trace'])[0], nsArgv(o.netns, ['nft', 'monitor', 'trace']).slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  monitor.stdout.on('data', (b: Buffer) => {
    buf += b.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(`${Date.now()} ${buf.slice(0, i)}`);
      buf = buf.slice(i + 1);
    }
  });
  const t0 = Date.now();
  try {
    // Give the monitor a moment to subscribe before packets are marked.
    await new Promise((r) => setTimeout(r, 200));
    const add = await runProcess(nsArgv(o.netns, ['nft', '-f', '-']), { input: `table netdev ${table} {\n${chains}\n}\n`, timeoutMs: 10_000 });
    if (add.code !== 0) throw new Error(`cannot add the trace table: ${add.stderr.trim()}`);
    o.onReady?.();
    await new Promise((r) => setTimeout(r, o.ms));
  } finally {
    await runProcess(nsArgv(o.netns, ['nft', 'delete', 'table', 'netdev', table]), { timeoutMs: 10_000 });
    if (monitor.pid && monitor.exitCode === null) monitor.kill('SIGTERM');
  }
  return { hops: parseTrace(lines, t0), lines: lines.slice(0, 500).map((l) => l.slice(l.indexOf(' ') + 1)) };
}

/** Trace lines → one hop per trace id, in order of appearance (lines carry a leading ms timestamp). */
export function parseTrace(lines: string[], t0: number): TraceHop[] {
  const byId = new Map<string, TraceHop>();
  for (const raw of lines) {
    const sp = raw.indexOf(' ');
    const at = Number(raw.slice(0, sp)) - t0;
    const line = raw.slice(sp + 1);
    const id = /^trace id (\S+)/.exec(line)?.[1];
    if (!id) continue;
    let hop = byId.get(id);
    if (!hop) {
      hop = { iif: '', out: [], src: '', dst: '', at };
      byId.set(id, hop);
    }
    if (/ packet: /.test(line)) {
      hop.iif ||= /iif "([^"]+)"/.exec(line)?.[1] ?? '';
      hop.src ||= /(?:ip6?) saddr (\S+)/.exec(line)?.[1] ?? '';
      hop.dst ||= /(?:ip6?) daddr (\S+)/.exec(line)?.[1] ?? '';
    }
    for (const m of line.matchAll(/(fwd|dup) to "([^"]+)"/g)) hop.out.push(`${m[1]} ${m[2]}`);
    const verdict = / verdict (drop|accept)/.exec(line)?.[1] ?? /policy (drop)/.exec(line)?.[1];
    if (verdict && !hop.out.length) hop.out.push(verdict);
  }
  return [...byId.values()].filter((h) => h.iif);
}
