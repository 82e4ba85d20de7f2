/** Loading 10k and 100k services into the engine that carries the measured chain. */
import type { Engine } from '../../appliance/engine.js';
import { benchConfig } from './bench-config.js';
import type { Path } from './measure.js';
import { kpps } from './report.js';
import { blast } from './sender.js';
import type { BenchNet } from './topology.js';

const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A full apply (the table deleted and rebuilt in one transaction) of
 * `services`, while a paced stream runs through the chain: the times of each
 * step, and how many frames of the stream were lost (sent − received at the sink).
 */
export async function loadUnderStream(net: BenchNet, engine: Engine, bin: string, chain: Path, services: number, streamPps: number): Promise<string> {
  const t0 = performance.now();
  const config = benchConfig(net, services);
  const before = (await net.packets(chain.sink)).rx;
  const stream = blast(bin, chain.flow, { cpus: 1, seconds: 600, pps: streamPps });
  let sent: number | undefined;
  try {
    const t1 = performance.now();
    const prepared = await engine.prepare(config);
    const t2 = performance.now();
    const r = await engine.apply(prepared, { full: true, carryCounters: false });
    await sleep(500);
    sent = await stream.stop();
    await sleep(300);
    const got = (await net.packets(chain.sink)).rx - before;
    const nftMs = r.checkMs + r.applyMs;
    const target = services >= 100_000 ? ` (target ≤ 1.5 s with no loss: ${nftMs <= 1500 && sent === got ? 'ok' : 'MISSED'})` : '';
    return (
      `full apply of ${services} services (${prepared.ruleset.stats.elements} elements, ${(r.scriptBytes / 1e6).toFixed(1)} MB script): ` +
      `build+validate config ${sec(t1 - t0)}, compile+render ${sec(t2 - t1)}, ` +
      (r.via === 'netlink' ? `one netlink transaction ${sec(r.applyMs)}` : `nft -c ${sec(r.checkMs)} + nft -f ${sec(r.applyMs)} = ${sec(nftMs)}`) +
      `${target};\n` +
      `    a ${kpps(streamPps)} pps stream through the chain meanwhile lost ${sent - got} of ${sent}`
    );
  } finally {
    if (sent === undefined) await stream.stop().catch(() => 0);
  }
}
