/**
 * Experiment harness for the per-packet cost of the engine's ruleset shape
 * (issue 3): brings up the benchmark's two worlds (bench/lib/topology.ts),
 * loads the engine's rendered ruleset for 10 services, then loads variants of
 * it (bench/lib/variants.ts: hand edits of the live ruleset, the calibration's
 * reference shape) and measures each against the hard-wired paths with the
 * bench's own pair machinery. Only for finding where the time goes; the
 * figures that count come from bench/datapath-chain.ts. The variants were
 * written against the shape before the issue-3 change (dispatch goto, two MAC
 * writes, iifname keys); on the current shape those edits find nothing to
 * change, while nocnt and direct still measure the row counters and the
 * action-id indirection.
 *
 *   node --import tsx bench/ruleset-variants.ts [--rounds N] [--only a,b] [--perf variant] [--dump DIR]
 */
import { writeFileSync } from 'node:fs';
import { Engine } from '../appliance/engine.js';
import { kernelFacts } from '../appliance/datapath/kernel-facts.js';
import { NftDriver } from '../appliance/datapath/nft-driver.js';
import { spawnBackground } from '../cli/lab/netns.js';
import { benchConfig } from './lib/bench-config.js';
import { countThrough, interleave, median, ppsRun, settle, type Path, type Timing } from './lib/measure.js';
import { benchPaths } from './lib/paths.js';
import { buildSender } from './lib/sender.js';
import { BenchNet } from './lib/topology.js';
import { VARIANTS } from './lib/variants.js';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const ROUNDS = Number(opt('--rounds') ?? 6);
const ONLY = opt('--only')?.split(',');
const PERF = opt('--perf');
const DUMP = opt('--dump');
const CASES = (opt('--cases') ?? 'hop,chain').split(',');
const TIMING: Timing = { warmupS: 0.5, windowS: 1.5 };

let net: BenchNet | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    void (net?.down() ?? Promise.resolve()).finally(() => process.exit(130));
  });

async function main(): Promise<void> {
  net = await BenchNet.up();
  const bin = await buildSender(net.workDir);
  const eng = net.ns('eng');
  const driver = new NftDriver({ netns: eng });
  const engine = new Engine({ datapath: driver, facts: kernelFacts(eng) });
  await engine.load(benchConfig(net, 10));
  driver.close();
  const base = (await net.exec('eng', ['nft', 'list', 'ruleset'])).stdout;
  if (DUMP) writeFileSync(`${DUMP}/base.nft`, base);
  const p = benchPaths(net);
  if (p.eIds) await net.mirror(CASES.includes('ids'));
  const out: string[] = [];
  for (const v of VARIANTS) {
    if (ONLY && !ONLY.includes(v.name)) continue;
    const text = `flush ruleset\n${v.make(base, net)}`;
    if (DUMP) writeFileSync(`${DUMP}/${v.name}.nft`, text);
    const r = await net.exec('eng', ['nft', '-f', '-'], text);
    if (r.code) throw new Error(`${v.name}: ${r.stderr}`);
    const checks: [Path, string[]][] = [
      [p.eHop, ['eng/e0', 'esv/s0']],
      [p.eChain, ['eng/e0', 'efw/fw0', 'eng/e2', 'esv/s0']],
    ];
    if (CASES.includes('ids')) checks.push([p.eIds, ['eng/e0', 'esv/s0', 'eids/ids0']]);
    for (const [path, keys] of checks) {
      const got = await countThrough(net, bin, path.flow, 5000, [...keys]);
      if (got.some((g) => g !== 5000)) throw new Error(`${v.name}: ${path.label} hops saw ${got.join(' ')}`);
    }
    await settle();
    if (PERF?.split(',').includes(v.name)) {
      // The sender is pinned to CPU 0 and carries every hop: profile that CPU only.
      for (const [label, path] of [['hop', p.eHop], ['chain', p.eChain], ['hhop', p.hHop], ['hchain', p.hChain]] as const) {
        const rec = spawnBackground(['perf', 'record', '-C', '0', '-g', '-o', `/tmp/dpx/perf-${v.name}-${label}.data`, '--', 'sleep', '2.5']);
        const r = await ppsRun(net, bin, path, 1, { warmupS: 0.2, windowS: 3 });
        await rec.stop(10_000).catch(() => undefined);
        console.log(`perf ${v.name} ${label}: ${r.pps.toFixed(0)} pps, cpu share ${r.cpuShare.toFixed(2)}`);
      }
    }
    const line = [`${v.name.padEnd(14)}`];
    for (const c of CASES) {
      const [hb, ht] = c === 'hop' ? [p.hHop, p.eHop] : c === 'chain' ? [p.hChain, p.eChain] : [p.hMirror, p.eIds];
      const res = await interleave(net, bin, hb, ht, 1, ROUNDS, TIMING);
      const eps = median(res.test.samples.map((s) => s.norm));
      line.push(`${c} ${median(res.ratios).toFixed(3)} [${Math.min(...res.ratios).toFixed(2)}–${Math.max(...res.ratios).toFixed(2)}] ${(eps / 1e3).toFixed(0)}k (${(1e6 / eps).toFixed(3)} µs)`);
    }
    out.push(line.join('  '));
    console.log(out.at(-1));
  }
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => net?.down());
