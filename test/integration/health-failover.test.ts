/**
 * Failover on the real kernel: a client streams UDP through a pool of two
 * bridge firewalls to a server while the first firewall's link is cut. The
 * daemon's health checks (heartbeat frames through the bridge, defaults:
 * 1000 ms interval, 200 ms timeout, 3 retries) find it failed, ONE commit moves
 * the service to the alternate, snmptrapd and an ncclient subscription get
 * the notifications, and traffic goes back only after the failback RPC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetconfClient } from '../../cli/netconf-client/client.js';
import { NetconfRpcError } from '../../cli/netconf-client/errors.js';
import { startDaemon, type Daemon } from '../../mgmt/daemon.js';
import type { HealthEvent } from '../../mgmt/health/monitor.js';
import { HealthNet, waitUntil } from './helpers/health-net.js';
import { requireRoot } from './helpers/root.js';
import { column, DEV_ENTRY, snmpTool, VCN } from './helpers/snmp-tools.js';

const PASSWORD = 'admin-secret';
const SCRIPTS = join(import.meta.dirname, 'ncclient');
const HEALTH_NS = 'urn:vcn:appliance:health';

const hn = new HealthNet();
const dir = mkdtempSync(join(tmpdir(), 'vcn-health-'));
const socket = join(dir, 'netconf.sock');
let daemon: Daemon | undefined;
const events: HealthEvent[] = [];
const logs: string[] = [];
const started: ChildProcess[] = [];
let srvOut = '';

function py(script: string, args: Record<string, unknown>): ChildProcess {
  const c = spawn('/usr/bin/python3', [join(SCRIPTS, script), JSON.stringify(args)], { cwd: SCRIPTS, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(c);
  return c;
}

function lines(c: ChildProcess): string[] {
  const out: string[] = [];
  createInterface({ input: c.stdout! }).on('line', (l) => out.push(l));
  return out;
}

/** Runs health RPCs over the daemon's NETCONF unix socket (the vcn command's client); an rpc-error comes back as { error }. */
async function rpcs(xml: string[]): Promise<{ ok?: string; error?: { app_tag?: string; message: string } }[]> {
  const c = await NetconfClient.connect({ socket, timeoutMs: 60_000 });
  try {
    const out: { ok?: string; error?: { app_tag?: string; message: string } }[] = [];
    for (const x of xml) {
      try {
        out.push({ ok: (await c.rpc(x)).map((e) => e.toString()).join('') });
      } catch (e) {
        const err = e instanceof NetconfRpcError ? e.errors[0] : undefined;
        out.push({ error: { app_tag: err?.appTag, message: (e as Error).message } });
      }
    }
    return out;
  } finally {
    await c.close();
  }
}

/** Counts UDP port 9 packets each bridge forwards (a bridge-family counter in the firewall's namespace). */
async function countUdp(ns: string): Promise<number> {
  const r = await hn.net.exec(ns, ['nft', '-j', 'list', 'counter', 'bridge', 'hc', 'udp9']);
  return (JSON.parse(r.stdout) as { nftables: { counter?: { packets: number } }[] }).nftables.find((x) => x.counter)!.counter!.packets;
}

/** Sends n UDP datagrams from the client to W1:9, `gapMs` apart. */
function stream(n: number, gapMs: number, tag: string): ChildProcess {
  const code = `import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(${n}):\n  s.sendto(b"${tag}-%d"%i,("${hn.W.W1}",9))\n  time.sleep(${gapMs / 1000})\n`;
  return hn.net.start(hn.ns.cl, ['/usr/bin/python3', '-c', code]);
}

/** Opens TCP connections to W1:80 one after another for `seconds` (1 s connect timeout), reading the greeting; prints each success's time (ms). */
function tcpLoop(seconds: number): ChildProcess {
  const code =
    `import socket,time\nend=time.monotonic()+${seconds}\nwhile time.monotonic()<end:\n  s=socket.socket(); s.settimeout(1)\n  try:\n    s.connect(("${hn.W.W1}",80)); d=s.recv(100)\n    if d: print("T %.3f"%(time.monotonic()*1000), flush=True)\n  except Exception: pass\n  finally: s.close()\n  time.sleep(0.01)\n`;
  return hn.net.start(hn.ns.cl, ['/usr/bin/python3', '-c', code]);
}

const exited = (c: ChildProcess) => new Promise((r) => (c.exitCode !== null ? r(c.exitCode) : c.on('exit', r)));

beforeAll(async () => {
  requireRoot();
  await hn.up();
  for (const fw of [hn.ns.fwa, hn.ns.fwb]) {
    await hn.net.exec(fw, ['nft', '-f', '-'], { input: 'table bridge hc {\n counter udp9 { }\n chain f { type filter hook forward priority 0; udp dport 9 counter name "udp9"; }\n}\n' });
  }
  const srv = await hn.server('srv');
  srv.stdout!.on('data', (b: Buffer) => (srvOut += b.toString()));
  await hn.server('srvb');
  daemon = await startDaemon({
    db: join(dir, 'vcn.db'),
    netns: hn.ns.eng,
    netconf: { ssh: { port: 0, host: '127.0.0.1' }, unix: socket, adminPassword: PASSWORD },
    snmp: { dir: join(dir, 'snmp'), netns: hn.ns.eng },
    health: {},
    sampleEveryMs: 0,
    log: (l) => logs.push(l),
  });
  daemon.health!.onEvent((e) => events.push(e));
  const s = daemon.northbound.openSession('admin', 'cli');
  daemon.northbound.setCandidate(s.id, hn.config({ snmp: true }));
  await daemon.northbound.commit(s.id, { comment: 'health lab' });
  daemon.northbound.closeSession(s.id);
  await daemon.snmp!.settle();
  await daemon.snmp!.agent?.registered();
  await waitUntil(() => ['fwa', 'fwb', 'srv', 'srvb'].every((d) => daemon!.health!.state(d)?.oper === 'up'), 20_000, 'every device up');
}, 90_000);

afterAll(async () => {
  for (const c of started) if (c.exitCode === null && c.pid) c.kill('SIGKILL');
  await daemon?.stop();
  await hn.cleanup();
  rmSync(dir, { recursive: true, force: true });
  if (process.env.VCN_TEST_LOG) console.log(logs.join('\n'));
});

describe('health checking and failover on the real kernel', () => {
  it('cutting the first firewall\'s link moves a UDP stream to the alternate in one failover commit; traps and notifications arrive', async () => {
    const trapConf = join(dir, 'snmptrapd.conf');
    writeFileSync(trapConf, 'authCommunity log health-traps\n');
    const trapd = hn.net.start(hn.ns.nms, ['env', `SNMP_PERSISTENT_DIR=${join(dir, 'trapd')}`, 'MIBS=', 'snmptrapd', '-f', '-C', '-c', trapConf, '-Lo', '-On', '-X', `udp:${hn.ip.nms}:1162`]);
    let traps = '';
    trapd.stdout!.on('data', (b: Buffer) => (traps += b.toString()));
    await hn.net.waitFor(trapd, /NET-SNMP version/);
    const listener = py('health_listen.py', { port: daemon!.netconf!.ssh!.port, password: PASSWORD, seconds: 400, until: '<kind>failback</kind>' });
    const notes = lines(listener);
    // SSH logins check a scrypt hash: slow on a loaded machine.
    await expect.poll(() => notes.includes('READY'), { timeout: 90_000 }).toBe(true);

    const commitsBefore = daemon!.store.history(1000).length;
    const viaFwb0 = await countUdp(hn.ns.fwb);
    const sender = stream(3000, 2, 'a'); // 2 ms apart: 6 s
    const tcp = tcpLoop(8);
    let tcpOut = '';
    tcp.stdout!.on('data', (b: Buffer) => (tcpOut += b.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    const killedAt = Date.now();
    await hn.net.exec(hn.ns.fwa, ['ip', 'link', 'set', hn.ifs.fa0, 'down']);
    await expect.poll(() => events.find((e) => e.kind === 'failover' && e.subject === 'fwa'), { timeout: 60_000 }).toBeTruthy();
    const down = events.find((e) => e.kind === 'device-down' && e.subject === 'fwa')!;
    const fo = events.find((e) => e.kind === 'failover' && e.subject === 'fwa')!;
    await exited(sender);
    await exited(tcp);
    await new Promise((r) => setTimeout(r, 300));
    const connects = [...tcpOut.matchAll(/^T ([\d.]+)$/gm)].map((m) => Number(m[1]));
    let tcpGap = 0;
    for (let i = 1; i < connects.length; i++) tcpGap = Math.max(tcpGap, connects[i] - connects[i - 1]);

    // The gap: the longest pause between datagrams the server received (2 ms apart when nothing fails).
    const arrivals = [...srvOut.matchAll(/^R a-(\d+) ([\d.]+)$/gm)].map((m) => ({ seq: Number(m[1]), t: Number(m[2]) }));
    let gap = 0;
    for (let i = 1; i < arrivals.length; i++) gap = Math.max(gap, arrivals[i].t - arrivals[i - 1].t);
    const lost = 3000 - arrivals.length;
    console.log(
      `[health] failover: detection ${down.time - killedAt} ms after the link went down, failover commit done ${fo.time - killedAt} ms after (commit ${fo.detail.commitMs} ms: ${JSON.stringify(fo.detail.timings)}); ` +
        `UDP stream gap ${gap.toFixed(1)} ms, ${lost} of 3000 datagrams lost; TCP: ${connects.length} connections, longest time without one ${tcpGap.toFixed(0)} ms`,
    );
    expect(fo.detail.alternate).toBe('fwb');
    expect(fo.detail.service).toBe('web');
    expect(arrivals.at(-1)!.seq).toBeGreaterThan(2900); // the stream continued after the failover
    expect(await countUdp(hn.ns.fwb)).toBeGreaterThan(viaFwb0 + 100);
    // Bounded, not tight: on an idle machine the gap is about interval + retries x timeout + one commit;
    // the shared test machine (load 20-30 on 2 cores) stretched every nft run and the whole gap to tens of seconds.
    expect(gap).toBeLessThan(90_000);
    // TCP connections (each a handshake through the firewall and the server) worked before and after the failover.
    expect(connects.length).toBeGreaterThan(10);
    expect(connects.at(-1)!).toBeGreaterThan(connects[0] + tcpGap);
    // ONE commit of kind failover by user health.
    const newCommits = daemon!.store.history(1000).slice(0, daemon!.store.history(1000).length - commitsBefore);
    expect(newCommits.map((c) => `${c.kind}/${c.user}`)).toEqual(['failover/health']);

    // SNMP: vcnDeviceDown and vcnFailover at snmptrapd; the device table says down, 1 failure.
    const esc = VCN.replace(/\./g, '\\.');
    await expect.poll(() => traps, { timeout: 15_000 }).toMatch(new RegExp(`OID: ${esc}\\.0\\.3`));
    expect(traps).toMatch(new RegExp(`OID: ${esc}\\.0\\.1`));
    expect(traps).toContain('"fwb"');
    const fwaIdx = [...Buffer.from('fwa')].join('.');
    // The subagent reads counters for every request; on a loaded machine snmpd may give up (genError) once: retry.
    let walk = await snmpTool(hn.ns.nms, join(dir, 'snmpcli'), 'snmpwalk', ['-v2c', '-t', '5', '-r', '3', '-c', 'health-ro', `udp:${hn.ip.agent}:161`, DEV_ENTRY]);
    for (let i = 0; i < 5 && walk.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      walk = await snmpTool(hn.ns.nms, join(dir, 'snmpcli'), 'snmpwalk', ['-v2c', '-t', '5', '-r', '3', '-c', 'health-ro', `udp:${hn.ip.agent}:161`, DEV_ENTRY]);
    }
    expect(walk.code, walk.stderr).toBe(0);
    expect(column(walk.values, DEV_ENTRY, 6).get(fwaIdx)).toBe('2'); // down(2)
    expect(column(walk.values, DEV_ENTRY, 8).get(fwaIdx)).toBe('1'); // one failure
    expect(Number(column(walk.values, DEV_ENTRY, 7).get([...Buffer.from('fwb')].join('.')))).toBeGreaterThan(0); // response time (us)

    // NETCONF: the notifications, and <get> oper data.
    await expect.poll(() => notes.some((l) => l.includes('<kind>failover</kind>') && l.includes('<alternate>fwb</alternate>')), { timeout: 10_000 }).toBe(true);
    expect(notes.some((l) => l.includes('<kind>device-down</kind>') && l.includes('<subject>fwa</subject>'))).toBe(true);
    const [status] = await rpcs([`<health-status xmlns="${HEALTH_NS}"/>`]);
    expect(status.ok).toMatch(/<name>fwa<\/name><check>heartbeat<\/check><oper>down<\/oper><out-of-service>true<\/out-of-service>/);
    expect(status.ok).toMatch(/<name>fwb<\/name><check>heartbeat<\/check><oper>up<\/oper>.*<avg-response-us>\d+<\/avg-response-us>/s);
  }, 240_000);

  it('a recovered firewall stays out of service until the failback RPC, then takes the traffic again', async () => {
    await hn.net.exec(hn.ns.fwa, ['ip', 'link', 'set', hn.ifs.fa0, 'up']);
    await expect.poll(() => events.find((e) => e.kind === 'device-up' && e.subject === 'fwa'), { timeout: 60_000 }).toBeTruthy();
    const fwa0 = await countUdp(hn.ns.fwa);
    await exited(stream(50, 5, 'b'));
    await new Promise((r) => setTimeout(r, 300));
    expect(await countUdp(hn.ns.fwa)).toBe(fwa0); // still on fwb
    expect(daemon!.northbound.runtimeState().failed?.has('fwa')).toBe(true);

    const [r] = await rpcs([`<failback xmlns="${HEALTH_NS}"><device>fwa</device></failback>`]);
    expect(r.error).toBeUndefined();
    expect(r.ok).toMatch(/<commit-id[^>]*>\d+<\/commit-id>/);
    expect(daemon!.store.history(1)[0].kind).toBe('failback');
    await exited(stream(50, 5, 'c'));
    await new Promise((r2) => setTimeout(r2, 300));
    expect(await countUdp(hn.ns.fwa)).toBeGreaterThanOrEqual(fwa0 + 45);
    // A second failback is refused with a coded error.
    const [again] = await rpcs([`<failback xmlns="${HEALTH_NS}"><device>fwa</device></failback>`]);
    expect(again.error?.app_tag).toBe('HEALTH_NOT_FAILED');
    expect(events.some((e) => e.kind === 'failback' && e.subject === 'fwa')).toBe(true);
  }, 180_000);
});
