/**
 * Data-plane benchmark (issue 3, section 5): packets per second through the
 * engine's real ruleset against a kernel baseline measured in the same run,
 * in namespaces this process creates and deletes.
 *
 *   (a) one engine hop ÷ one kernel forwarding hop
 *   (b) client → engine → bridge firewall → engine → server ÷ the hard-wired chain
 *   (c) (b) with an IDS copy ÷ hard-wired with a tc mirror port
 *   (d) (b) with 10, 10k and 100k services loaded (and loss during the full applies)
 *   TCP (iperf3) through the chain ÷ hard-wired; rules per pass from the rendered ruleset;
 *   then scripts/bench-apply.ts (apply times), when present.
 *
 *   node --import tsx bench/datapath-chain.ts [--quick] [--no-scale] [--no-apply]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Engine } from '../appliance/engine.js';
import { kernelFacts } from '../appliance/datapath/kernel-facts.js';
import { NftDriver } from '../appliance/datapath/nft-driver.js';
import { run } from '../cli/lab/netns.js';
import { benchConfig, MEASURED } from './lib/bench-config.js';
import { countThrough, interleave, median, type Pairing, type Path, type Timing } from './lib/measure.js';
import { kpps, pairRow, printTable, seriesText, type Row } from './lib/report.js';
import { passCost } from './lib/rule-path.js';
import { blast, buildSender } from './lib/sender.js';
import { iperfRun, iperfServer } from './lib/tcp.js';
import { BenchNet } from './lib/topology.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
/** Pairs per case: 1 core, 2 cores, each scale point. Sized for ≤ ~10 min on a 2-vCPU VM, bench-apply included. */
const ROUNDS = QUICK ? { one: 3, two: 2, scale: 2, tcp: 2 } : { one: 5, two: 3, scale: 3, tcp: 3 };
const TIMING: Timing = QUICK ? { warmupS: 1, windowS: 2 } : { warmupS: 1, windowS: 3 };
const STREAM_PPS = 20_000;
const APPLY_SCRIPT = fileURLToPath(new URL('../scripts/bench-apply.ts', import.meta.url));

const log = (s: string): void => void process.stderr.write(`  … ${s}\n`);
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

let net: BenchNet | undefined;
let child: ChildProcess | undefined;

async function teardown(): Promise<void> {
  if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
  await net?.down();
}

for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: tearing down\n`);
    void teardown().finally(() => process.exit(130));
  });

function passLine(engine: Engine, services: number): string {
  const rs = engine.running()?.ruleset;
  if (!rs) return 'no ruleset';
  const passes = [`${MEASURED.chain}/9/in`, `${MEASURED.chain}/9/f1`, `${MEASURED.hop}/9/in`, `${MEASURED.ids}/9/f1`].map((id) => passCost(rs, id));
  const worst = Math.max(...passes.map((p) => p.rules));
  const detail = passes.map((p) => `${p.row}@${p.iif}: ${p.chains.map((c) => `${c.name} ${c.rules}`).join(' + ')} = ${p.rules} (${p.lookups} lookups)`);
  const text = services === 10 ? `\n  the rules of one pass (${passes[0].row}):\n      ${passes[0].texts.join('\n      ')}` : '';
  return (
    `rules per pass with ${services} services: measured paths ≤ ${worst}, renderer's worst case ${rs.stats.maxRulesPerPass} ` +
    `(target ≤ 10) — ${worst <= 10 && rs.stats.maxRulesPerPass <= 10 ? 'ok' : 'MISSED'}\n    ${detail.join('\n    ')}${text}`
  );
}

/** A full apply of `services` under a paced stream through the chain: times, and frames lost. */
async function loadUnderStream(engine: Engine, bin: string, chain: Path, services: number): Promise<string> {
  const t0 = performance.now();
  const config = benchConfig(net!, services);
  const before = (await net!.packets(chain.sink)).rx;
  const stream = blast(bin, chain.flow, { cpus: 1, seconds: 600, pps: STREAM_PPS });
  try {
    const t1 = performance.now();
    const prepared = await engine.prepare(config);
    const t2 = performance.now();
    const r = await engine.apply(prepared, { full: true, carryCounters: false });
    await new Promise((res) => setTimeout(res, 500));
    const sent = await stream.stop();
    await new Promise((res) => setTimeout(res, 300));
    const got = (await net!.packets(chain.sink)).rx - before;
    return (
      `full apply of ${services} services (${prepared.ruleset.stats.elements} elements, ${(r.scriptBytes / 1e6).toFixed(1)} MB script): ` +
      `config ${sec(t1 - t0)}, compile+render ${sec(t2 - t1)}, nft -c ${sec(r.checkMs)}, nft -f ${sec(r.applyMs)}; ` +
      `under a ${kpps(STREAM_PPS)} pps stream through the chain: lost ${sent - got} of ${sent}`
    );
  } catch (e) {
    await stream.stop().catch(() => 0);
    throw e;
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('datapath bench skipped: it needs root (network namespaces, nft)');
    return;
  }
  if ((await run(['sh', '-c', 'command -v gcc'], { allowFail: true })).code !== 0) {
    console.log('datapath bench skipped: gcc is needed to build the packet sender (bench/udpblast.c)');
    return;
  }
  const started = performance.now();
  const loadAtStart = loadavg();
  net = await BenchNet.up();
  const bin = await buildSender(net.workDir);
  const eng = net.ns('eng');
  const engine = new Engine({ datapath: new NftDriver({ netns: eng }), facts: kernelFacts(eng) });
  await engine.load(benchConfig(net, 10));
  const { w } = net.plan;
  const eHop = net.path('e', 'engine 1 hop', w.hop, 'esv/s0');
  const hHop = net.path('h', 'kernel forward 1 hop', w.hop, 'hsd/d0');
  const eChain = net.path('e', 'engine chain', w.chain, 'esv/s0');
  const hChain = net.path('h', 'hard-wired chain', w.chain, 'hsv/s0');
  const eIds = net.path('e', 'engine chain + IDS copy', w.ids, 'esv/s0', 'eids/ids0');
  const hMirror = net.path('h', 'hard-wired + mirror', w.ids, 'hsv/s0', 'hids/ids0');

  // Every hop must carry every frame before any timing means anything.
  const N = 20_000;
  const checks: [Path, string[]][] = [
    [eHop, ['eng/e0', 'esv/s0']],
    [hHop, ['hrt/r0', 'hsd/d0']],
    [eChain, ['eng/e0', 'efw/fw0', 'eng/e2', 'esv/s0']],
    [hChain, ['hrt/r0', 'hfw/fw0', 'hsv/s0']],
    [eIds, ['eng/e0', 'eng/e2', 'esv/s0', 'eids/ids0']],
  ];
  await net.mirror(true);
  checks.push([hMirror, ['hrt/r0', 'hfw/fw0', 'hsv/s0', 'hids/ids0']]);
  const smoke: string[] = [];
  for (const [path, keys] of checks) {
    const got = await countThrough(net, bin, path.flow, N, keys);
    smoke.push(`${path.label} ${keys.map((k, i) => `${k}=${got[i]}`).join(' ')}`);
    if (got.some((g) => g !== N)) throw new Error(`topology check: ${N} frames sent on ${path.label}, hops saw ${smoke.at(-1)}`);
  }
  await net.mirror(false);
  log(`topology check: ${N} frames reached every hop of all six paths`);

  const rows: Row[] = [];
  const notes: string[] = [];
  const pair = (name: string, base: Path, test: Path, cores: number, rounds: number): Promise<Pairing> => {
    log(`${name}, ${cores} core${cores > 1 ? 's' : ''}: ${rounds} pairs (${base.label} / ${test.label})`);
    return interleave(net!, bin, base, test, cores, rounds, TIMING).then((p) => {
      const m = (xs: Pairing['base']) => kpps(median(xs.samples.map((s) => s.pps)));
      log(`  ${m(p.base)} / ${m(p.test)} pps, pairs ${p.ratios.map((r) => r.toFixed(2)).join(' ')}`);
      return p;
    });
  };
  let b1: Pairing | undefined;
  for (const cores of [1, 2]) {
    const r = cores === 1 ? ROUNDS.one : ROUNDS.two;
    const a = '(a) engine 1 hop ÷ kernel forwarding hop';
    rows.push(pairRow(a, cores, await pair(a, hHop, eHop, cores, r), { min: 0.95 }));
    const b = '(b) engine chain ÷ hard-wired chain';
    const p = await pair(b, hChain, eChain, cores, r);
    rows.push(pairRow(b, cores, p, { min: 0.83, aim: 0.9 }));
    if (cores === 1) b1 = p;
  }
  await net.mirror(true);
  for (const cores of [1, 2]) {
    const c = '(c) chain + IDS copy ÷ hard-wired + mirror';
    const p = await pair(c, hMirror, eIds, cores, cores === 1 ? ROUNDS.one : ROUNDS.two);
    rows.push(pairRow(c, cores, p, { min: 0.83 }));
    const copies = (s: Pairing['base']) => median(s.samples.map((x) => (x.extraPps ?? 0) / x.pps)).toFixed(3);
    notes.push(`(c) ${cores} core${cores > 1 ? 's' : ''}: IDS copies per delivered packet: hard-wired mirror ${copies(p.base)}, engine copy-to ${copies(p.test)}`);
  }
  await net.mirror(false);

  log(`TCP: ${ROUNDS.tcp} pairs of 4 s iperf3 runs`);
  const servers = [await iperfServer(net, 'hsv', w.chain, net.plan.tcpPort), await iperfServer(net, 'esv', w.chain, net.plan.tcpPort)];
  const tcp = { h: [] as number[], e: [] as number[], ratios: [] as number[] };
  try {
    for (let i = 0; i < ROUNDS.tcp; i++) {
      const h = await iperfRun(net, 'hcl', w.chain, net.plan.tcpPort, 4);
      const e = await iperfRun(net, 'ecl', w.chain, net.plan.tcpPort, 4);
      tcp.h.push(h);
      tcp.e.push(e);
      tcp.ratios.push(e / h);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  const gbit = (x: number): string => (x / 1e9).toFixed(1);
  const tcpRow: Row = {
    name: 'TCP 1 stream (Gbit/s): chain ÷ hard-wired',
    cores: '-',
    base: seriesText(tcp.h, gbit),
    test: seriesText(tcp.e, gbit),
    ratio: median(tcp.e) / median(tcp.h),
    pairs: [Math.min(...tcp.ratios), Math.max(...tcp.ratios)],
    target: { min: 0.9 },
  };

  const passes = [passLine(engine, 10)];
  const loads: string[] = [];
  const scaleRows: Row[] = [];
  if (!b1) throw new Error('no 1-core chain runs');
  const ratioOf = (p: Pairing) => median(p.test.samples.map((s) => s.pps)) / median(p.base.samples.map((s) => s.pps));
  scaleRows.push({ ...pairRow('(d) chain, 10 services (= b, 1 core)', 1, b1), target: undefined });
  if (!args.has('--no-scale')) {
    for (const n of [10_000, 100_000]) {
      log(`loading ${n} services (full apply under a stream)`);
      loads.push(await loadUnderStream(engine, bin, eChain, n));
      passes.push(passLine(engine, n));
      const p = await pair(`(d) chain, ${n / 1000}k services`, hChain, eChain, 1, ROUNDS.scale);
      scaleRows.push(pairRow(`(d) chain, ${n / 1000}k services`, 1, p));
      // Normalised by the hard-wired runs beside it, so that machine drift between phases cancels.
      const rel = ratioOf(p) / ratioOf(b1);
      const raw = median(p.test.samples.map((s) => s.pps)) / median(b1.test.samples.map((s) => s.pps));
      scaleRows.push({
        name: `    ${n / 1000}k ÷ 10 services`,
        cores: '1',
        base: '',
        test: `raw engine pps ratio ${raw.toFixed(3)}`,
        ratio: rel,
        target: { min: 0.95 },
      });
    }
  }
  await teardown();
  net = undefined;

  const elapsed = performance.now() - started;
  console.log('\nData plane: 64-byte UDP frames, pps delivered at the sink (rx_packets delta; the sink drops them at netdev ingress).');
  console.log(
    `Sender: bench/udpblast.c (AF_PACKET + sendmmsg, linear skbs), one per core, pinned; on veth every hop runs in the sender's softirq. ` +
      `Each run: ${TIMING.warmupS} s warm-up, ${TIMING.windowS} s counted (calibration used 2 s + 5 s). ` +
      `Baseline and engine alternate (base, engine, base, …); cells are median (min–max); ratio = engine median ÷ baseline median, pairs = per-pair ratio range.` +
      (QUICK ? ' --quick: fewer and shorter runs.' : ''),
  );
  printTable('Throughput vs baseline (same run)', 'baseline pps', 'engine pps', [...rows, tcpRow]);
  printTable('Scale: the chain with more services loaded (ratio = engine ÷ hard-wired, then normalised to 10 services)', 'hard-wired pps', 'engine pps', scaleRows);
  console.log('\nTopology check (exact frame counts per hop before timing):\n    ' + smoke.join('\n    '));
  console.log('\n' + passes.join('\n'));
  if (loads.length) console.log('\n' + loads.join('\n'));
  console.log('\n' + notes.join('\n'));
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  console.log(
    `\nNoise on this VM is 5–10% per run; trust ratios of medians over single pairs. Load average at start ${la(loadAtStart)}, at end ${la(loadavg())} ` +
      `(other work on the machine lowers absolute pps; alternation keeps the ratios fair). Data-plane part took ${sec(elapsed)}.`,
  );

  if (args.has('--no-apply')) return;
  if (!existsSync(APPLY_SCRIPT)) {
    console.log('\nscripts/bench-apply.ts not present: apply times are only the full applies above.');
    return;
  }
  console.log('\n== apply times (scripts/bench-apply.ts)');
  await new Promise<void>((resolve, reject) => {
    child = spawn(process.execPath, [...process.execArgv, APPLY_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => child?.pid && process.kill(child.pid, 'SIGTERM'), 400_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code) process.exitCode = code;
      resolve();
    });
  });
}

main()
  .catch((e: unknown) => {
    console.error(`datapath bench failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  })
  .finally(() => teardown());
