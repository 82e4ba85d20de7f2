/**
 * One measurement: pps delivered at a sink, counted as rx_packets deltas after
 * a warm-up (what reaches the sink is what every hop before it carried), and
 * the alternation of two paths so that drift of a shared VM hits both alike.
 *
 * On veth every hop runs in the softirq of the sending CPU, charged to the
 * sender process. So the CPU time the senders got during the window is the
 * time the whole path got: pps ÷ that share is what the path does with its
 * CPUs to itself, which other processes in the VM do not move (checked with a
 * busy loop pinned beside the sender: raw ratio 0.32, normalised 0.64, as
 * without it). Slowdowns from outside the VM stay: hence many short pairs.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { blast, type Flow } from './sender.js';
import type { BenchNet } from './topology.js';

export interface Path {
  label: string;
  flow: Flow;
  /** "<role>/<ifname>" of the sender's interface (offered load). */
  client: string;
  /** "<role>/<ifname>" of the sink interface. */
  sink: string;
  /** Another interface whose rx is reported (the IDS). */
  extra?: string;
}

export interface Timing {
  warmupS: number;
  windowS: number;
}

export interface PpsSample {
  pps: number;
  /** CPU time the senders got ÷ (cores × window): 1 when nothing else ran on their CPUs. */
  cpuShare: number;
  /** pps ÷ cpuShare: the rate with the CPUs to itself. */
  norm: number;
  /** What the client put on the wire, per second (offered load). */
  offered: number;
  extraPps?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** utime + stime of processes, in seconds (/proc counts in USER_HZ, 100 on Linux). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100;
}

/** Busy and total ticks of each CPU (/proc/stat; idle and iowait count as not busy). */
function cpuTicks(): { busy: number; total: number }[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => {
      const v = l.trim().split(/\s+/).slice(1, 9).map(Number);
      const total = v.reduce((a, b) => a + b, 0);
      return { busy: total - v[3] - v[4], total };
    });
}

/** Reads counters, the senders' CPU time, and the time at the middle of the read (the `ip` call takes a few ms). */
async function snapshot(net: BenchNet, keys: string[], pids: number[]): Promise<{ t: number; cpu: number; rx: number[]; tx: number[] }> {
  const t0 = performance.now();
  const cpu = cpuSeconds(pids);
  const c = await Promise.all(keys.map((k) => net.packets(k)));
  return { t: (t0 + performance.now()) / 2, cpu, rx: c.map((x) => x.rx), tx: c.map((x) => x.tx) };
}

export async function ppsRun(net: BenchNet, bin: string, path: Path, cpus: number, timing: Timing): Promise<PpsSample> {
  const keys = [path.sink, path.client, ...(path.extra ? [path.extra] : [])];
  const b = blast(bin, path.flow, { cpus, seconds: timing.warmupS + timing.windowS + 2 });
  try {
    await sleep(timing.warmupS * 1000);
    const a = await snapshot(net, keys, b.pids);
    await sleep(timing.windowS * 1000);
    const z = await snapshot(net, keys, b.pids);
    const s = (z.t - a.t) / 1000;
    const pps = (z.rx[0] - a.rx[0]) / s;
    const cpuShare = Math.min(1, (z.cpu - a.cpu) / (cpus * s));
    return {
      pps,
      cpuShare,
      norm: pps / cpuShare,
      offered: (z.tx[1] - a.tx[1]) / s,
      extraPps: path.extra ? (z.rx[2] - a.rx[2]) / s : undefined,
    };
  } finally {
    await b.stop();
    // Let the softirq backlog drain before the next run starts counting.
    await sleep(200);
  }
}

/**
 * Waits until the machine is nearly idle (all CPUs under `busy` over half a
 * second), at most `maxMs`: a big apply leaves kernel work behind (hash
 * tables growing, RCU freeing the old table) that would land in the next runs.
 */
export async function settle(maxMs = 15_000, busy = 0.1): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const a = cpuTicks();
    await sleep(500);
    const z = cpuTicks();
    const share = z.reduce((n, c, i) => n + c.busy - a[i].busy, 0) / Math.max(1, z.reduce((n, c, i) => n + c.total - a[i].total, 0));
    if (share < busy || performance.now() - t0 > maxMs) return performance.now() - t0;
  }
}

export interface Series {
  label: string;
  samples: PpsSample[];
}

export interface Pairing {
  base: Series;
  test: Series;
  /** test ÷ base of each pair (CPU-share normalised rates), in run order. */
  ratios: number[];
}

/** base, test, base, test … `rounds` pairs. */
export async function interleave(net: BenchNet, bin: string, base: Path, test: Path, cpus: number, rounds: number, timing: Timing): Promise<Pairing> {
  const p: Pairing = { base: { label: base.label, samples: [] }, test: { label: test.label, samples: [] }, ratios: [] };
  for (let i = 0; i < rounds; i++) {
    const b = await ppsRun(net, bin, base, cpus, timing);
    const t = await ppsRun(net, bin, test, cpus, timing);
    p.base.samples.push(b);
    p.test.samples.push(t);
    p.ratios.push(t.norm / b.norm);
  }
  return p;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

/**
 * Sends exactly `count` frames and returns how many each interface received:
 * the topology check before any timing (every hop must see every frame).
 */
export async function countThrough(net: BenchNet, bin: string, flow: Flow, count: number, keys: string[]): Promise<number[]> {
  const before = await Promise.all(keys.map((k) => net.packets(k)));
  const sent = await blast(bin, flow, { cpus: 1, seconds: 10, maxPackets: count }).done();
  await sleep(300);
  const after = await Promise.all(keys.map((k) => net.packets(k)));
  if (sent !== count) throw new Error(`udpblast sent ${sent} of ${count} frames`);
  return keys.map((_, i) => after[i].rx - before[i].rx);
}
