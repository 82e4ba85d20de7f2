/**
 * SNMP benchmark (issue 6): snmpbulkwalk of VCN-MIB's service table through
 * Debian's snmpd and the daemon's AgentX subagent, with N services committed
 * to the real data plane (nftables in a private network namespace, counters
 * read over netlink while the walk runs). Prints the walk time per size and
 * the cost per varbind against the smallest size measured in the same run.
 *
 *   node --import tsx bench/snmp-walk.ts [N ...]     (default 100 10000; root)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../appliance/run-process.js';
import type { Config } from '../appliance/model/config.generated.js';
import { startDaemon, type Daemon } from '../mgmt/daemon.js';
import { MiniNet } from '../test/integration/helpers/netns-mini.js';
import { scaleConfig } from './scale-config.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [100, 10_000];
const SERVICE_TABLE = '.1.3.6.1.4.1.32473.1.1.2';
const V3 = ['-v3', '-l', 'authPriv', '-u', 'bench', '-a', 'SHA-256', '-A', 'bench-auth-1', '-x', 'AES', '-X', 'bench-priv-1'];

const net = new MiniNet();
const dir = mkdtempSync(join(tmpdir(), 'vcn-bench-snmp-'));
let daemon: Daemon | undefined;
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await daemon?.stop().catch(() => undefined);
  await net.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void cleanup().then(() => process.exit(130)));

async function walk(ns: string, args: string[]): Promise<{ ms: number; varbinds: number }> {
  const t0 = performance.now();
  const r = await runProcess(['ip', 'netns', 'exec', ns, 'env', `SNMP_PERSISTENT_DIR=${join(dir, 'cli')}`, 'MIBS=', 'snmpbulkwalk', '-On', '-Oq', ...args, 'udp:127.0.0.1:161', SERVICE_TABLE], {
    timeoutMs: 600_000,
  });
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`snmpbulkwalk failed: ${r.stderr}\nsnmpd log: ${(await import('node:fs')).readFileSync(join(dir, 'snmp', 'snmpd.log'), 'utf8').slice(-1500)}`);
  return { ms, varbinds: r.stdout.toString().split('\n').filter((l) => l.startsWith('.')).length };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/snmp-walk needs root (network namespaces)');
  const eng = await net.addNs('snmpb');
  const peer = await net.addNs('snmpp');
  for (let i = 0; i < 4; i++) await net.veth({ ns: eng, name: `e${i}`, mac: `02:89:00:00:00:0${i}` }, { ns: peer, name: `p${i}`, mac: `02:89:00:00:01:0${i}` });
  daemon = await startDaemon({ db: join(dir, 'vcn.db'), netns: eng, log: () => undefined, snmp: { dir: join(dir, 'snmp'), netns: eng }, sampleEveryMs: 0 });
  console.log('services  varbinds   v2c walk (-Cr50)   v3 authPriv walk (-Cr50)   v2c walk (-Cr10)   µs/varbind (v2c r50)   vs smallest');
  let base: number | undefined;
  for (const n of SIZES) {
    const c: Config = scaleConfig(n);
    c.system.snmp = {
      ...c.system.snmp,
      enabled: true,
      'listen-address': ['127.0.0.1'],
      community: [{ name: 'bench', source: ['127.0.0.1/32'] }],
      'v3-user': [{ name: 'bench', 'auth-protocol': 'sha-256', 'auth-password': 'bench-auth-1', 'priv-protocol': 'aes-128', 'priv-password': 'bench-priv-1' }],
    };
    const s = daemon.northbound.openSession('bench', 'cli');
    daemon.northbound.setCandidate(s.id, c);
    await daemon.northbound.commit(s.id, { comment: `${n} services` });
    await daemon.snmp!.settle();
    await daemon.snmp!.agent!.registered();
    await walk(eng, ['-v2c', '-c', 'bench', '-Cr50']); // warm: first counter read and tree build
    const v2 = await walk(eng, ['-v2c', '-c', 'bench', '-Cr50']);
    const v3 = await walk(eng, [...V3, '-Cr50']);
    const v2small = await walk(eng, ['-v2c', '-c', 'bench', '-Cr10']);
    const per = (v2.ms * 1000) / v2.varbinds;
    base ??= per;
    console.log(
      `${String(n).padStart(8)}  ${String(v2.varbinds).padStart(8)}   ${v2.ms.toFixed(0).padStart(10)} ms      ${v3.ms.toFixed(0).padStart(10)} ms            ${v2small.ms.toFixed(0).padStart(10)} ms      ${per.toFixed(1).padStart(10)}            ${(per / base).toFixed(2)}×`,
    );
    if (v2.varbinds !== v3.varbinds || v2.varbinds !== v2small.varbinds) throw new Error(`walks disagree: ${v2.varbinds} / ${v3.varbinds} / ${v2small.varbinds} varbinds`);
  }
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => void cleanup());
