/**
 * Memory probe of the daemon (root): starts bin/vcnd like bench/store-rss.ts in
 * a scratch namespace, commits N services, then prints VmRSS every second for
 * a while (the accounting sampler reads every counter every SAMPLE seconds,
 * default 20), with resident memory by mapping at the end; writes V8 heap
 * snapshots (--heapsnapshot-signal) into HEAP_DIR (default /tmp) at the given
 * seconds after the commit, or SNAP_AT_COMMIT seconds into the commit.
 *
 *   node --import tsx bench/heap-probe.ts [N] [snapshot seconds, comma-separated] [seconds to watch]
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { procMb as status, ScaleDaemon } from './lib/scale-daemon.js';

const n = Number(process.argv[2] ?? 100000);
const snaps = (process.argv[3] ?? '').split(',').filter(Boolean).map(Number); // seconds after commit to snapshot
const total = Number(process.argv[4] ?? 60);
const d = await ScaleDaemon.start('p', {
  sampleEvery: Number(process.env.SAMPLE ?? 20),
  nodeOptions: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${process.env.HEAP_DIR ?? tmpdir()}`,
});
try {
  const pid = d.pid; // bin/vcnd execs node: same pid
  const t0 = performance.now();
  if (process.env.SNAP_AT_COMMIT) setTimeout(() => process.kill(pid, 'SIGUSR2'), Number(process.env.SNAP_AT_COMMIT) * 1000);
  await d.commitServices(n);
  console.log(`commit ${Math.round(performance.now() - t0)} ms, RSS ${status(pid, 'VmRSS').toFixed(0)} HWM ${status(pid, 'VmHWM').toFixed(0)}`);
  console.log('memory after gc', JSON.stringify(await d.memory()));
  const start = performance.now();
  let si = 0;
  let maxRss = 0;
  while (performance.now() - start < total * 1000) {
    await new Promise((res) => setTimeout(res, 1000));
    const el = (performance.now() - start) / 1000;
    const rss = status(pid, 'VmRSS');
    maxRss = Math.max(maxRss, rss);
    process.stdout.write(`${el.toFixed(0)}s:${rss.toFixed(0)} `);
    if (si < snaps.length && el >= snaps[si]) {
      si++;
      process.kill(pid, 'SIGUSR2');
      console.log('\nsnapshot requested');
    }
  }
  const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n');
  const by = new Map<string, number>();
  let cur = '';
  for (const l of smaps) {
    const h = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (h) cur = h[1] || '[anon]';
    else if (l.startsWith('Rss:')) by.set(cur, (by.get(cur) ?? 0) + Number(/(\d+)/.exec(l)![1]) / 1024);
  }
  console.log('\nsmaps Rss by mapping:', [...by].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', '));
  console.log(`\nmax RSS ${maxRss.toFixed(0)} MB, HWM ${status(pid, 'VmHWM').toFixed(0)} MB`);
  console.log('memory after gc', JSON.stringify(await d.memory()));
} finally {
  await d.close();
}
