/**
 * Commit benchmarks over the dry datapath (compile + render + diff + store;
 * the kernel's own nft time is not included — see store-rss.ts for a real run):
 * a 10k-service commit, one changed service on top, a rollback across 10k
 * services, and the store's size after many commits of a 10k-service config.
 *
 *   node --import tsx bench/store-commit.ts [services=10000] [commits=1000]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DryDriver } from '../appliance/datapath/dry-driver.js';
import { EngineDataplane } from '../mgmt/northbound/dataplane.js';
import { Northbound } from '../mgmt/northbound/northbound.js';
import { checkConfig } from '../mgmt/schema/load-config.js';
import { Store } from '../mgmt/store/store.js';
import { scaleConfig } from './scale-config.js';

const N = Number(process.argv[2] ?? 10_000);
const COMMITS = Number(process.argv[3] ?? 1000);
const MACS = { e0: '02:ee:00:00:00:01', e1: '02:ee:00:00:00:02', e2: '02:ee:00:00:00:03', e3: '02:ee:00:00:00:04' };
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
const ms = (x: number) => `${Math.round(x)} ms`;

const dir = mkdtempSync(join(tmpdir(), 'vcn-bench-'));
try {
  const store = Store.open(join(dir, 'vcn.db'));
  const dry = new DryDriver();
  const nb = new Northbound({ store, dataplane: new EngineDataplane({ datapath: dry, facts: async () => ({ interfaceMacs: MACS }) }) });
  await nb.start();
  const s = nb.openSession('bench', 'cli');
  const big = scaleConfig(N);
  const report = (what: string, r: Awaited<ReturnType<typeof nb.commit>>) =>
    console.log(
      `${what.padEnd(34)} total ${ms(r.timings.total).padStart(8)}  (validate ${ms(r.timings.validate)}, compile+render ${ms(r.timings.prepare)}, nft -c ${ms(r.timings.check)}, apply ${ms(r.timings.apply)} ${r.apply.mode} ${(r.apply.scriptBytes / 1024).toFixed(0)} KiB, store ${ms(r.timings.store)})`,
    );

  nb.setCandidate(s.id, big);
  report(`commit ${N} services`, await nb.commit(s.id));
  const first = nb.runningCommit()!;
  nb.editCandidate(s.id, (c) => {
    c.services.service[N >> 1]['service-ip'] = '10.250.0.1';
  });
  report(`one changed service on ${N}`, await nb.commit(s.id));
  nb.setCandidate(s.id, scaleConfig(10));
  report(`commit 10 services (drop ${N})`, await nb.commit(s.id));
  report(`rollback to ${N} services`, await nb.rollback(s.id, first));
  await nb.stop();
  store.close();

  // Store size: many commits of a 10k-service config, each changing one service (history cap 1000).
  const file = join(dir, 'size.db');
  const st = Store.open(file, { historyLimit: 1000 });
  const cfg = checkConfig(scaleConfig(N)).config;
  let parent: number | null = null;
  const t0 = performance.now();
  for (let i = 0; i < COMMITS; i++) {
    const svc = cfg.services.service[(i * 7919) % N];
    svc.description = `change ${i}`;
    parent = st.recordCommit({ actor: { user: 'bench', client: 'cli' }, kind: 'commit', config: cfg, parent }).id;
  }
  const el = performance.now() - t0;
  st.checkpoint();
  const stats = st.stats();
  st.close();
  const raw = JSON.stringify(cfg).length;
  console.log(
    `store after ${COMMITS} commits of ${N} services (one service changed each): file ${mb(statSync(file).size)}; ` +
      `${stats.chunks} chunks ${mb(stats.chunkBytes)} deflated (${mb(stats.chunkRawBytes)} raw), manifests ${mb(stats.manifestBytes)}; ` +
      `one config as JSON ${mb(raw)} (x${COMMITS} = ${mb(raw * COMMITS)} undeduplicated); ${ms(el / COMMITS)} per recorded commit`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
