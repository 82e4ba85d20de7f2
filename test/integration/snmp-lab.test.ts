/**
 * Billing counters over SNMP on the lab, with the real data plane: the daemon
 * runs the engine namespace's nftables and snmpd in that namespace (on its
 * loopback); Debian's snmpget reads VCN-MIB. Known UDP traffic from the
 * client through web-ids (UDP 9: engine → loopback server, copy to the IDS)
 * raises the service·port and hop octet counters by exactly its layer 3
 * bytes (IPv4 header 20 + UDP header 8 + payload per datagram). The counters
 * never go backwards across 20 commits, a daemon restart and a ruleset
 * reload (the kernel table deleted: counters at zero, as after a reboot),
 * and `vcn accounting` reports the same usage from the samples.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import { Lab } from '../../cli/lab/index.js';
import { startDaemon, type Daemon } from '../../mgmt/daemon.js';
import { checkConfig } from '../../mgmt/schema/load-config.js';
import { requireRoot } from './helpers/root.js';
import { HOP_ENTRY, snmpTool, SVC_ENTRY, svcIndex } from './helpers/snmp-tools.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PAYLOAD = 100;
const L3 = 20 + 8 + PAYLOAD;

let lab: Lab;
let daemon: Daemon | undefined;
const dir = mkdtempSync(join(tmpdir(), 'vcn-snmp-lab-'));
const logs: string[] = [];
let config: Config;

const start = () =>
  startDaemon({ db: join(dir, 'vcn.db'), netns: lab.ns('eng'), log: (l) => logs.push(l), snmp: { dir: join(dir, 'snmp'), netns: lab.ns('eng') }, sampleEveryMs: 60_000 });

async function commit(c: Config, comment: string) {
  const nb = daemon!.northbound;
  const s = nb.openSession('admin', 'cli');
  nb.setCandidate(s.id, c);
  const r = await nb.commit(s.id, { comment });
  nb.closeSession(s.id);
  return r;
}

interface Reading {
  svcIn: bigint;
  svcOut: bigint;
  hopIn: bigint;
  hopOut: bigint;
}

/** The billing counters of web-ids/9 over SNMP (snmpget in the engine namespace). */
async function read(): Promise<Reading> {
  const idx = svcIndex(lab.plan.service.W4, 9);
  const oids = [`${SVC_ENTRY}.7.${idx}`, `${SVC_ENTRY}.9.${idx}`, `${HOP_ENTRY}.6.${idx}.1.0.1`, `${HOP_ENTRY}.6.${idx}.2.1.1`];
  const r = await snmpTool(lab.ns('eng'), join(dir, 'cli'), 'snmpget', ['-v2c', '-c', 'lab-ro', 'udp:127.0.0.1:161', ...oids]);
  const v = oids.map((o) => r.values.get(o));
  if (v.some((x) => x === undefined || !/^\d+$/.test(x))) throw new Error(`snmpget: ${r.stdout} ${r.stderr}`);
  const [svcIn, svcOut, hopIn, hopOut] = v.map((x) => BigInt(x!));
  return { svcIn, svcOut, hopIn, hopOut };
}

/** `count` datagrams of PAYLOAD bytes from the client to web-ids UDP 9, paced; waits until the server logged them all. */
async function send(count: number): Promise<void> {
  const { W4 } = lab.plan.service;
  const before = (await lab.serverLog('slo')).filter((l) => l.local === W4 && l.lport === 9).length;
  const js = `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(${PAYLOAD},120);let i=0;
function next(){if(i++>=${count}){s.close();return}s.send(b,9,'${W4}',()=>setTimeout(next,1))}next();`;
  await lab.exec('cl', 'node', '-e', js);
  await expect.poll(async () => (await lab.serverLog('slo')).filter((l) => l.local === W4 && l.lport === 9).length - before, { timeout: 15_000 }).toBe(count);
}

/** Polls SNMP until web-ids/9 in-octets reach `target` (the counter reading is at most 1 s old). */
async function readUntil(target: bigint): Promise<Reading> {
  let last: Reading | undefined;
  const t0 = Date.now();
  while (Date.now() - t0 < 15_000) {
    last = await read();
    if (last.svcIn >= target) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  return last!;
}

function notBackwards(prev: Reading, next: Reading, when: string): void {
  for (const k of ['svcIn', 'svcOut', 'hopIn', 'hopOut'] as const) expect(next[k] >= prev[k], `${k} went from ${prev[k]} to ${next[k]} ${when}`).toBe(true);
}

beforeAll(async () => {
  requireRoot();
  lab = await Lab.up();
  daemon = await start();
  const c = lab.demoConfig();
  c.system = checkConfig({}).config.system;
  c.system.snmp = { ...c.system.snmp, enabled: true, 'listen-address': ['127.0.0.1'], community: [{ name: 'lab-ro', source: ['127.0.0.1/32'] }] };
  config = c;
  await commit(config, 'demo with SNMP');
  await daemon.snmp!.settle();
  await daemon.snmp!.agent!.registered();
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await lab?.down();
  rmSync(dir, { recursive: true, force: true });
});

describe('billing counters over SNMP on the lab', () => {
  let t0 = 0;
  let total = 0n;

  it('service·port and hop octets rise by exactly the L3 bytes sent', async () => {
    await daemon!.sampler!.sample();
    t0 = Date.now();
    const a = await read();
    await send(200);
    total += 200n * BigInt(L3);
    const b = await readUntil(a.svcIn + 200n * BigInt(L3));
    expect(b.svcIn - a.svcIn).toBe(200n * BigInt(L3));
    expect(b.hopIn - a.hopIn).toBe(200n * BigInt(L3)); // forward, from the client (step 0)
    // The server answers every datagram (its reply is not an echo of the same size): the way back is
    // counted by the service·port's out side and by the reverse hop from the server (step 1), alike.
    await expect.poll(async () => ((await read()).svcOut - a.svcOut) % 200n === 0n && (await read()).svcOut > a.svcOut, { timeout: 10_000 }).toBe(true);
    const d = await read();
    expect(d.hopOut - a.hopOut).toBe(d.svcOut - a.svcOut);
  });

  it('never go backwards across 20 commits, a daemon restart and a ruleset reload, and count every byte sent', async () => {
    let prev = await read();
    const first = prev;
    for (let i = 0; i < 20; i++) {
      const c = structuredClone(config);
      const ids = c.services.service.find((s) => s.name === 'web-ids')!;
      // Ruleset diffs: web-ids' own action changes (DSCP), or another service comes and goes.
      if (i % 2 === 0) ids.dscp = 10 + i;
      else c.services.service = c.services.service.filter((s) => s.name !== 'web-nat');
      await commit(c, `change ${i}`);
      const after = await read();
      notBackwards(prev, after, `after commit ${i}`);
      prev = after;
      if (i % 5 !== 4) continue;
      // Traffic after every fifth commit: counted exactly, whatever the commits before did to the ruleset.
      await send(5);
      total += 5n * BigInt(L3);
      prev = await readUntil(after.svcIn + 5n * BigInt(L3));
      notBackwards(after, prev, `after traffic following commit ${i}`);
    }
    // Daemon restart (the kernel table stays; the daemon reloads it in full).
    await daemon!.stop();
    daemon = await start();
    await daemon.snmp!.agent!.registered();
    let now = await read();
    notBackwards(prev, now, 'after a daemon restart');
    await send(5);
    total += 5n * BigInt(L3);
    prev = await readUntil(now.svcIn + 5n * BigInt(L3));
    // Ruleset reload: the kernel table is deleted (its counters with it, as in a reboot), and the daemon loads it again.
    await daemon.stop();
    execFileSync('ip', ['netns', 'exec', lab.ns('eng'), 'nft', 'delete', 'table', 'netdev', 'vcn']);
    daemon = await start();
    await daemon.snmp!.agent!.registered();
    now = await read();
    notBackwards(prev, now, 'after a ruleset reload');
    await send(5);
    total += 5n * BigInt(L3);
    prev = await readUntil(now.svcIn + 5n * BigInt(L3));
    expect(prev.svcIn - now.svcIn).toBe(5n * BigInt(L3));
    // Every byte since the first reading is counted, none twice.
    expect(prev.svcIn - first.svcIn).toBe(total - 200n * BigInt(L3));
  }, 600_000);

  it('vcn accounting reports the same usage from the samples (CSV and JSON)', async () => {
    await daemon!.sampler!.sample();
    const cli = (format: string) =>
      execFileSync('node', ['--import', 'tsx', join(ROOT, 'cli', 'vcn.ts'), 'accounting', '--db', join(dir, 'vcn.db'), '--from', new Date(t0).toISOString(), '--format', format], {
        cwd: ROOT,
        encoding: 'utf8',
      });
    const json = JSON.parse(cli('json')) as { servicePorts: { service: string; port: string; inBytes: string; inPackets: string }[] };
    const row = json.servicePorts.find((u) => u.service === 'web-ids' && u.port === '9')!;
    expect(BigInt(row.inBytes)).toBe(total);
    expect(BigInt(row.inPackets)).toBe(total / BigInt(L3));
    const csv = cli('csv').split('\n');
    expect(csv[0]).toBe('kind,service,port_or_rule,in_packets,in_bytes,out_packets,out_bytes');
    const line = csv.find((l) => l.startsWith('service-port,web-ids,9,'))!.split(',');
    expect(line.slice(3, 5)).toEqual([String(total / BigInt(L3)), String(total)]);
  });
});
