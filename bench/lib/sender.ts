/**
 * The packet sender: bench/udpblast.c compiled at bench time (Debian has no
 * socket-based blaster besides trafgen, whose non-linear skbs distort nft
 * costs), run inside a namespace, one process pinned per core.
 */
import { fileURLToPath } from 'node:url';
import { nsenterArgv, run, spawnBackground, type BackgroundProcess } from '../../cli/lab/netns.js';

const SOURCE = fileURLToPath(new URL('../udpblast.c', import.meta.url));

export interface Flow {
  ns: string;
  ifname: string;
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  dport: number;
}

export interface BlastOptions {
  /** Senders, pinned to CPUs 0..cpus-1. */
  cpus: number;
  seconds: number;
  /** Packets per sender at most (the second bound besides time). */
  maxPackets?: number;
  /** Paced rate per sender; 0 or absent = as fast as the kernel takes them. */
  pps?: number;
}

export interface Blast {
  pids: number[];
  /** Stops the senders (by PID) and returns what they report having sent. */
  stop(): Promise<number>;
  /** Waits for the senders to reach their bound by themselves. */
  done(): Promise<number>;
}

export async function buildSender(dir: string): Promise<string> {
  const bin = `${dir}/udpblast`;
  await run(['gcc', '-O2', '-Wall', '-o', bin, SOURCE], { timeoutMs: 60_000 });
  return bin;
}

function sentBy(p: BackgroundProcess): number {
  const m = /sent (\d+)/.exec(p.tail());
  if (!m) throw new Error(`udpblast reported nothing: ${p.tail().slice(-300)}`);
  return Number(m[1]);
}

export function blast(bin: string, flow: Flow, opts: BlastOptions): Blast {
  const procs: BackgroundProcess[] = [];
  const closed: Promise<unknown>[] = [];
  for (let cpu = 0; cpu < opts.cpus; cpu++) {
    const argv = [bin, flow.ifname, flow.dstMac, flow.srcMac, flow.srcIp, flow.dstIp, String(flow.dport)];
    argv.push(String(opts.maxPackets ?? 100_000_000), String(opts.seconds), String(cpu), String(opts.pps ?? 0));
    const p = spawnBackground(nsenterArgv(flow.ns, argv));
    procs.push(p);
    // 'close', not 'exit': the report line must have left the pipe.
    closed.push(new Promise((r) => p.child.once('close', r)));
  }
  const total = async (): Promise<number> => {
    await Promise.all(closed);
    return procs.reduce((n, p) => n + sentBy(p), 0);
  };
  return {
    pids: procs.map((p) => p.pid),
    async stop() {
      await Promise.all(procs.map((p) => p.stop(3000)));
      return total();
    },
    done: total,
  };
}
