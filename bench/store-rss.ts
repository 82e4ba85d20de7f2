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
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { scaleConfig } from './scale-config.js';

const sizes = (process.argv[2] ?? '100,10000,100000').split(',').map(Number);
const root = join(import.meta.dirname, '..');
const status = (pid: number, key: string) => Number(/(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(key)) ?? '')?.[1] ?? 0) / 1024;

for (const n of sizes) {
  const ns = `vcnb-${process.pid}-${n}`;
  const dir = mkdtempSync(join(tmpdir(), 'vcn-rss-'));
  execFileSync('ip', ['netns', 'add', ns]);
  let pid = 0;
  try {
    for (let i = 0; i < 4; i++) {
      execFileSync('ip', ['-n', ns, 'link', 'add', `e${i}`, 'type', 'veth', 'peer', 'name', `p${i}`]);
      execFileSync('ip', ['-n', ns, 'link', 'set', `e${i}`, 'up']);
    }
    const child = spawn(join(root, 'bin/vcnd'), ['--db', join(dir, 'vcn.db'), '--netns', ns, '--stdio', '--sample-every', '20'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, VCND_NODE_OPTIONS: `--expose-gc ${process.env.VCND_NODE_OPTIONS ?? ''}` } });
    pid = child.pid!;
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => JSON.parse(String((await lines.next()).value)) as { result?: unknown; error?: { message: string } };
    await next(); // ready
    const idle = status(pid, 'VmRSS');
    const t0 = performance.now();
    child.stdin.write(`${JSON.stringify({ id: 1, method: 'setCandidate', params: [scaleConfig(n)] })}\n`);
    await next();
    child.stdin.write(`${JSON.stringify({ id: 2, method: 'commit', params: [{ comment: `${n} services` }] })}\n`);
    const r = (await next()) as { result?: { timings: { total: number }; apply: { mode: string; applyMs: number } }; error?: { message: string } };
    if (r.error) throw new Error(r.error.message);
    const took = performance.now() - t0;
    const afterCommit = status(pid, 'VmRSS');
    child.stdin.write(`${JSON.stringify({ id: 3, method: 'memory' })}\n`);
    const mem = (await next()).result as { rss: number; heapUsed: number; heapTotal: number; external: number };
    // The steady state: V8's memory reducer returns freed heap pages a few seconds after the last big allocation.
    const series: number[] = [];
    for (const s of [5, 10, 15, 30, 45, 60]) {
      await new Promise((res) => setTimeout(res, (s - (series.length ? [5, 10, 15, 30, 45, 60][series.length - 1] : 0)) * 1000));
      series.push(Math.round(status(pid, 'VmRSS')));
    }
    const settled = Math.max(...series);
    console.log(
      `${String(n).padStart(6)} services: RSS ${afterCommit.toFixed(0)} MB after commit (peak ${status(pid, 'VmHWM').toFixed(0)} MB, idle ${idle.toFixed(0)} MB); commit ${Math.round(took)} ms incl. transfer, nft apply ${Math.round(r.result!.apply.applyMs)} ms (${r.result!.apply.mode}); after a full GC: RSS ${mem.rss} MB, JS heap ${mem.heapUsed}/${mem.heapTotal} MB, external ${mem.external} MB; then RSS at 5/10/15/30/45/60 s ${series.join(' / ')} MB, highest ${settled} MB (target ≤ 512 MB at 100k)`,
    );
    child.kill('SIGTERM');
    await new Promise((res) => child.on('exit', res));
    pid = 0;
  } finally {
    if (pid) process.kill(pid, 'SIGKILL');
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}
