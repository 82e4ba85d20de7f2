/** The six measured paths, and the exact-count check that every hop carries every frame before anything is timed. */
import { countThrough, type Path } from './measure.js';
import type { BenchNet } from './topology.js';

export interface BenchPaths {
  eHop: Path;
  hHop: Path;
  eChain: Path;
  hChain: Path;
  eIds: Path;
  hMirror: Path;
}

export function benchPaths(net: BenchNet): BenchPaths {
  const { w } = net.plan;
  return {
    eHop: net.path('e', 'engine 1 hop', w.hop, 'esv/s0'),
    hHop: net.path('h', 'kernel forward 1 hop', w.hop, 'hsd/d0'),
    eChain: net.path('e', 'engine chain', w.chain, 'esv/s0'),
    hChain: net.path('h', 'hard-wired chain', w.chain, 'hsv/s0'),
    eIds: net.path('e', 'engine chain + IDS copy', w.ids, 'esv/s0', 'eids/ids0'),
    hMirror: net.path('h', 'hard-wired + mirror', w.ids, 'hsv/s0', 'hids/ids0'),
  };
}

/** Sends `count` frames down each path; throws unless every listed hop received exactly that many. Returns one line per path. */
export async function topologyCheck(net: BenchNet, bin: string, p: BenchPaths, count = 20_000): Promise<string[]> {
  const checks: [Path, string[]][] = [
    [p.eHop, ['eng/e0', 'esv/s0']],
    [p.hHop, ['hrt/r0', 'hsd/d0']],
    [p.eChain, ['eng/e0', 'efw/fw0', 'eng/e2', 'esv/s0']],
    [p.hChain, ['hrt/r0', 'hfw/fw0', 'hsv/s0']],
    [p.eIds, ['eng/e0', 'eng/e2', 'esv/s0', 'eids/ids0']],
    [p.hMirror, ['hrt/r0', 'hfw/fw0', 'hsv/s0', 'hids/ids0']],
  ];
  const lines: string[] = [];
  for (const [path, keys] of checks) {
    await net.mirror(path === p.hMirror);
    const got = await countThrough(net, bin, path.flow, count, keys);
    lines.push(`${path.label}: ${keys.map((k, i) => `${k}=${got[i]}`).join(' ')}`);
    if (got.some((g) => g !== count)) throw new Error(`topology check: ${count} frames sent on ${path.label}, hops saw ${lines.at(-1)}`);
  }
  await net.mirror(false);
  return lines;
}
