/**
 * Daemon resident memory with 100, 10k and 100k services, against the real
 * kernel (root: a scratch namespace with veths e0..e3). For each size a fresh
 * daemon (child process, its PID recorded) commits the configuration over its
 * --stdio channel, started by bin/vcnd as the appliance starts it; VmRSS and
 * VmHWM are read from /proc after the commit, and then every few seconds for a
 * minute while the accounting sampler reads every billing counter every 20 s
 * (the steady state an appliance lives in: counters are read all the time).
 *
 *   node --import tsx bench/store-rss.ts [100,10000,100000]
 */
import { procMb as status, ScaleDaemon } from './lib/scale-daemon.js';

const sizes = (process.argv[2] ?? '100,10000,100000').split(',').map(Number);
for (const n of sizes) {
  const d = await ScaleDaemon.start('b', { sampleEvery: 20 });
  try {
    const pid = d.pid;
    const idle = status(pid, 'VmRSS');
    const t0 = performance.now();
    const r = (await d.commitServices(n)) as { timings: { total: number }; apply: { mode: string; applyMs: number } };
    const took = performance.now() - t0;
    const afterCommit = status(pid, 'VmRSS');
    const mem = await d.memory();
    // The steady state: V8's memory reducer returns freed heap pages a few seconds after the last big allocation.
    const series: number[] = [];
    for (const s of [5, 10, 15, 30, 45, 60]) {
      await new Promise((res) => setTimeout(res, (s - (series.length ? [5, 10, 15, 30, 45, 60][series.length - 1] : 0)) * 1000));
      series.push(Math.round(status(pid, 'VmRSS')));
    }
    const settled = Math.max(...series);
    console.log(
      `${String(n).padStart(6)} services: RSS ${afterCommit.toFixed(0)} MB after commit (peak ${status(pid, 'VmHWM').toFixed(0)} MB, idle ${idle.toFixed(0)} MB); commit ${Math.round(took)} ms incl. transfer, nft apply ${Math.round(r.apply.applyMs)} ms (${r.apply.mode}); after a full GC: RSS ${mem.rss} MB, JS heap ${mem.heapUsed}/${mem.heapTotal} MB, external ${mem.external} MB; then RSS at 5/10/15/30/45/60 s ${series.join(' / ')} MB, highest ${settled} MB (target ≤ 512 MB at 100k)`,
    );
  } finally {
    await d.close();
  }
}
