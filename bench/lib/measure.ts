/**
 * One measurement: pps delivered at a sink, counted as rx_packets deltas after
 * a warm-up (what reaches the sink is what every hop before it carried), and
 * the alternation of two paths so that drift of a shared VM hits both alike.
 */
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
  /** What the client put on the wire, per second (offered load). */
  offered: number;
  extraPps?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads counters and the time at the middle of the read (the `ip` call takes a few ms). */
async function snapshot(net: BenchNet, keys: string[]): Promise<{ t: number; rx: number[]; tx: number[] }> {
  const t0 = performance.now();
  const c = await Promise.all(keys.map((k) => net.packets(k)));
  return { t: (t0 + performance.now()) / 2, rx: c.map((x) => x.rx), tx: c.map((x) => x.tx) };
}

export async function ppsRun(net: BenchNet, bin: string, path: Path, cpus: number, timing: Timing): Promise<PpsSample> {
  const keys = [path.sink, path.client, ...(path.extra ? [path.extra] : [])];
  const b = blast(bin, path.flow, { cpus, seconds: timing.warmupS + timing.windowS + 2 });
  try {
    await sleep(timing.warmupS * 1000);
    const a = await snapshot(net, keys);
    await sleep(timing.windowS * 1000);
    const z = await snapshot(net, keys);
    const s = (z.t - a.t) / 1000;
    return {
      pps: (z.rx[0] - a.rx[0]) / s,
      offered: (z.tx[1] - a.tx[1]) / s,
      extraPps: path.extra ? (z.rx[2] - a.rx[2]) / s : undefined,
    };
  } finally {
    await b.stop();
    // Let the softirq backlog drain before the next run starts counting.
    await sleep(200);
  }
}

export interface Series {
  label: string;
  samples: PpsSample[];
}

export interface Pairing {
  base: Series;
  test: Series;
  /** test ÷ base of each pair, in run order. */
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
    p.ratios.push(t.pps / b.pps);
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
