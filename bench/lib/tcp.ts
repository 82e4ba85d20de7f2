/** TCP throughput with iperf3 (one stream, GSO/GRO as the kernel sets them), servers killed by PID. */
import { nsenterArgv, run, spawnBackground, waitForLine, type BackgroundProcess } from '../../cli/lab/netns.js';
import type { BenchNet, NsRole } from './topology.js';

export async function iperfServer(net: BenchNet, role: NsRole, bind: string, port: number): Promise<BackgroundProcess> {
  // --forceflush: its stdout is a pipe, and we wait for the "listening" line.
  const p = spawnBackground(nsenterArgv(net.ns(role), ['iperf3', '-s', '--forceflush', '-B', bind, '-p', String(port)]));
  try {
    await waitForLine(p, 'stdout', /Server listening/, 10_000, `iperf3 server in ${role}`);
  } catch (e) {
    await p.stop();
    throw e;
  }
  return p;
}

/** Bits per second the server received over `seconds`, after one more second left out (slow start). */
export async function iperfRun(net: BenchNet, role: NsRole, server: string, port: number, seconds: number): Promise<number> {
  const argv = ['iperf3', '-c', server, '-p', String(port), '-t', String(seconds), '-O', '1', '-J'];
  const r = await run(nsenterArgv(net.ns(role), argv), { timeoutMs: (seconds + 15) * 1000 });
  const report = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
  const bps = report.end?.sum_received?.bits_per_second;
  if (!bps) throw new Error(`iperf3 from ${role}: ${report.error ?? 'no result'}`);
  return bps;
}

export interface TcpPairs {
  /** Bits per second, hard-wired and engine, in run order. */
  h: number[];
  e: number[];
  ratios: number[];
}

/** iperf3 to the chain's service address, hard-wired then engine, `rounds` times. */
export async function tcpPairs(net: BenchNet, rounds: number, seconds: number): Promise<TcpPairs> {
  const { w, tcpPort } = net.plan;
  const servers = [await iperfServer(net, 'hsv', w.chain, tcpPort)];
  const out: TcpPairs = { h: [], e: [], ratios: [] };
  try {
    servers.push(await iperfServer(net, 'esv', w.chain, tcpPort));
    for (let i = 0; i < rounds; i++) {
      out.h.push(await iperfRun(net, 'hcl', w.chain, tcpPort, seconds));
      out.e.push(await iperfRun(net, 'ecl', w.chain, tcpPort, seconds));
      out.ratios.push(out.e[i] / out.h[i]);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return out;
}
