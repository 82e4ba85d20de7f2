/**
 * The namespace lab, with real namespaces, veths, servers and tcpdump (root).
 * The engine namespace gets no ruleset here except in the smoke test, which
 * loads a tiny hand-written one to prove the wiring end to end.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arpRequest, cleanupStale, enginePortOf, FW_BLOCKED, hostIp, Lab, tcpFrame, udpFrame } from '../../cli/lab/index.js';
import type { Capture, HostRole, ParsedPacket } from '../../cli/lab/index.js';
import { startLabChild } from './helpers/lab-cli.js';
import { isRoot, NEEDS_ROOT } from './helpers/root.js';
import { smokeSteering } from './helpers/steering.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const netnsExists = (ns: string): boolean => existsSync(`/run/netns/${ns}`);

/** Exists and is not a zombie (orphans of a killed owner wait for PID 1 to reap them). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

interface Link {
  ifname: string;
  address: string;
  operstate: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

describe.skipIf(!isRoot)(`lab (${isRoot ? 'root' : NEEDS_ROOT})`, () => {
  let lab: Lab;
  const captures: Capture[] = [];
  const capture = async (...args: Parameters<Lab['capture']>): Promise<Capture> => {
    const c = await lab.capture(...args);
    captures.push(c);
    return c;
  };

  beforeAll(async () => {
    lab = await Lab.up();
  });

  afterAll(async () => {
    await Promise.all(captures.map((c) => c.stop()));
    await lab?.down();
  });

  it('comes up within the time budget and records its state', () => {
    expect(lab.timings.up).toBeLessThan(10_000);
    expect(existsSync(lab.plan.stateFile)).toBe(true);
    const d = lab.describe();
    expect(d.pids.length).toBeGreaterThanOrEqual(5); // 4 servers + the IDS recorder
    for (const pid of d.pids) expect(alive(pid)).toBe(true);
  });

  it('has every namespace, interface, MAC and address it describes', async () => {
    const d = lab.describe();
    const links = async (ns: string): Promise<Link[]> =>
      JSON.parse((await lab.tryExec('eng', ['ip', '-n', ns, '-j', 'addr', 'show'])).stdout) as Link[];
    for (const ns of Object.values(d.namespaces)) expect(netnsExists(ns), ns).toBe(true);

    const eng = await links(d.engine.ns);
    for (const p of d.engine.ports) {
      const l = eng.find((x) => x.ifname === p.name);
      expect(l?.address, p.name).toBe(p.mac);
      expect(l?.addr_info.filter((a) => a.family === 'inet' || a.family === 'inet6'), `${p.name} has no IPs`).toEqual([]);
    }
    for (const host of Object.values(d.hosts)) {
      const have = await links(host.ns);
      for (const i of host.ifaces) {
        const l = have.find((x) => x.ifname === i.name);
        expect(l?.address, `${host.role}/${i.name}`).toBe(i.mac);
        const addrs = l?.addr_info.map((a) => `${a.local}/${a.prefixlen}`) ?? [];
        for (const a of [...i.ipv4, ...i.ipv6]) expect(addrs, `${host.role}/${i.name}`).toContain(a);
      }
    }
    // The veth ends really face each other: the peer of e6 is slo0.
    const e6 = enginePortOf(lab.plan, 'slo');
    expect(e6.peer.ifname).toBe('slo0');
    const slo = await links(lab.ns('slo'));
    expect(slo.find((x) => x.ifname === 'slo0')?.operstate).toBe('UP');
    // No DNS inside the namespaces: ip netns exec binds our resolv.conf.
    expect((await lab.exec('cl', 'cat', '/etc/resolv.conf')).stdout).toContain('vcn lab');
  });

  it('lets the client reach the router over IPv4 and IPv6', async () => {
    const rt1 = lab.plan.hosts.rt.ifaces[1];
    await lab.exec('cl', 'ping', '-n', '-c1', '-W2', rt1.ipv4[0].split('/')[0]);
    await lab.exec('cl', 'ping', '-n', '-c1', '-W2', rt1.ipv6[0].split('/')[0]);
  });

  it('routes the service prefix and the ISP prefix from rt toward the engine port e0', async () => {
    const { W1, W6 } = lab.plan.service;
    for (const dst of [W1, W6, hostIp(lab.plan, 'cl2')]) {
      const out = (await lab.exec('rt', 'ip', 'route', 'get', dst)).stdout;
      expect(out, dst).toMatch(/via \S+ dev rt0/);
    }
    const neigh = (await lab.exec('rt', 'ip', 'neigh', 'show', 'dev', 'rt0')).stdout;
    expect(neigh).toContain(`${lab.plan.uplinkNextHop.ipv4} lladdr ${enginePortOf(lab.plan, 'rt').mac} PERMANENT`);
  });

  const curl = async (role: HostRole, url: string): Promise<string> =>
    (await lab.exec(role, 'curl', '-sS', '-g', '--max-time', '5', url)).stdout;
  const udp = async (role: HostRole, host: string, port: number, text: string): Promise<string> => {
    const addr = host.includes(':') ? `UDP6:[${host}]:${port}` : `UDP4:${host}:${port}`;
    return (await lab.run(role, ['socat', '-t0.5', '-T2', '-', addr], { input: text })).stdout;
  };

  it('runs HTTP and UDP servers that answer on their service and own addresses', async () => {
    const { W1, W2, W4, W6 } = lab.plan.service;
    expect(await curl('slo', `http://${W1}/`)).toMatch(/^server=slo port=80 local=10\.\d+\.100\.1 /);
    expect(await curl('slo', `http://${W4}:8080/`)).toMatch(/^server=slo port=8080 local=10\.\d+\.100\.4 /);
    expect(await curl('slo', `http://[${W6}]/`)).toContain(`server=slo port=80 local=${W6} `);
    expect(await curl('sal', `http://${W2}/`)).toContain(`server=sal port=80 local=${W2} `);
    const snatIp = hostIp(lab.plan, 'snat');
    expect(await curl('snat', `http://${snatIp}:8080/`)).toContain(`server=snat port=8080 local=${snatIp} `);
    expect(await curl('rt', `http://${lab.plan.upstream.ipv4}/`)).toContain('server=rt port=80');
    const size = (await lab.exec('slo', 'curl', '-sS', '-o', '/dev/null', '-w', '%{size_download}', `http://${W1}/bytes/3000000`)).stdout;
    expect(Number(size)).toBe(3_000_000);

    expect(await udp('slo', W1, 9, 'ping-w1')).toBe(`server=slo port=9 local=${W1} remote=${W1} data=ping-w1`);
    expect(await udp('slo', W6, 5353, 'ping-w6')).toContain(`local=${W6}`);
    expect(await udp('sal', W2, 9, 'ping-w2')).toContain('server=sal port=9');
    expect(await udp('snat', snatIp, 5353, 'ping-snat')).toContain('server=snat port=5353');

    const log = await lab.serverLog('slo');
    expect(log).toContainEqual(expect.objectContaining({ proto: 'udp', local: W1, lport: 9, data: 'ping-w1' }));
    expect(log).toContainEqual(expect.objectContaining({ proto: 'tcp', local: W1, lport: 80, method: 'GET', url: '/' }));
  });

  it('sends server replies from the service IP to the engine port MAC (loopback, alias, NAT)', async () => {
    const cl = hostIp(lab.plan, 'cl');
    const clMac = lab.plan.hosts.cl.ifaces[0].mac;
    const cases: [HostRole, string][] = [
      ['slo', lab.plan.service.W1],
      ['sal', lab.plan.service.W2],
      ['snat', hostIp(lab.plan, 'snat')],
    ];
    for (const [role, dst] of cases) {
      const port = enginePortOf(lab.plan, role);
      const cap = await capture('eng', port.name, { direction: 'in', filter: 'udp' });
      // What the engine would deliver: the client's datagram, addressed to the server's MAC.
      await lab.inject('eng', port.name, udpFrame({ srcMac: clMac, dstMac: port.peer.mac, src: cl, dst, sport: 40123, dport: 9, payload: `to-${role}` }));
      const [reply] = await cap.waitFor((p) => p.dport === 40123);
      expect(reply).toMatchObject({ srcMac: port.peer.mac, dstMac: port.mac, src: dst, dst: cl, sport: 9 });
      expect(reply.payload?.toString()).toContain(`server=${role} port=9 local=${dst} remote=${cl} data=to-${role}`);
      await cap.stop();
    }
  });

  it('answers raw TCP and IPv6 frames from the engine side (checksums are right)', async () => {
    const e6 = enginePortOf(lab.plan, 'slo');
    const { W1, W6 } = lab.plan.service;
    const clMac = lab.plan.hosts.cl.ifaces[0].mac;
    const cap = await capture('eng', e6.name, { direction: 'in' });
    const syn = { srcMac: clMac, dstMac: e6.peer.mac, src: hostIp(lab.plan, 'cl'), dst: W1, sport: 40200, dport: 80 };
    await lab.inject('eng', e6.name, tcpFrame({ ...syn, flags: 'S', seq: 1000 }));
    const [synAck] = await cap.waitFor((p) => p.dport === 40200);
    expect(synAck).toMatchObject({ proto: 'tcp', tcpFlags: 'SA', src: W1, dstMac: e6.mac });
    // Tell the server to forget the half-open connection.
    await lab.inject('eng', e6.name, tcpFrame({ ...syn, flags: 'R', seq: 1001 }));
    const cl6 = hostIp(lab.plan, 'cl', 6);
    await lab.inject('eng', e6.name, udpFrame({ srcMac: clMac, dstMac: e6.peer.mac, src: cl6, dst: W6, sport: 40201, dport: 9, payload: 'v6' }));
    const [reply6] = await cap.waitFor((p) => p.dport === 40201);
    expect(reply6).toMatchObject({ proto: 'udp', src: W6, dst: cl6, sport: 9, dstMac: e6.mac });
    await cap.stop();
  });

  it('keeps the alias server silent on ARP for its service IP', async () => {
    const e7 = enginePortOf(lab.plan, 'sal');
    const gw = lab.plan.hosts.sal.gateway!.ipv4;
    const cap = await capture('eng', e7.name, { direction: 'in', filter: 'arp' });
    await lab.inject('eng', e7.name, arpRequest(e7.mac, gw, lab.plan.service.W2));
    await lab.inject('eng', e7.name, arpRequest(e7.mac, gw, hostIp(lab.plan, 'sal')));
    const [reply] = await cap.waitFor((p) => p.arpOp === 2);
    expect(reply.src).toBe(hostIp(lab.plan, 'sal'));
    await sleep(300);
    expect(cap.packets().filter((p) => p.arpOp === 2 && p.src === lab.plan.service.W2)).toEqual([]);
    await cap.stop();
  });

  it('bridges frames through fw and drops the named ports there', async () => {
    const ruleset = (await lab.exec('fw', 'nft', 'list', 'table', 'bridge', 'vcnlab_fw')).stdout;
    expect(ruleset).toContain(`udp dport ${FW_BLOCKED.udp}`);
    expect(ruleset).toContain(`tcp dport ${FW_BLOCKED.tcp}`);
    expect((await lab.exec('fw', 'sysctl', '-n', 'net.bridge.bridge-nf-call-iptables')).stdout.trim()).toBe('0');

    const e1 = enginePortOf(lab.plan, 'fw', 'fw0');
    const e2 = enginePortOf(lab.plan, 'fw', 'fw1');
    const before = await lab.fwCounters();
    const out = await capture('eng', e2.name, { direction: 'in' });
    const base = { srcMac: lab.plan.hosts.rt.ifaces[0].mac, dstMac: e2.mac, src: hostIp(lab.plan, 'cl'), dst: lab.plan.service.W1, sport: 40000 };
    // dst MAC = the far-side engine port, unknown to the bridge, so it floods it to fw1.
    await lab.inject('eng', e1.name, udpFrame({ ...base, dport: 9, payload: 'pass' }));
    await lab.inject('eng', e1.name, udpFrame({ ...base, dport: FW_BLOCKED.udp, payload: 'drop' }));
    await lab.inject('eng', e1.name, tcpFrame({ ...base, dport: FW_BLOCKED.tcp, flags: 'S' }));
    const [passed] = await out.waitFor((p) => p.dport === 9);
    expect(passed).toMatchObject({ dstMac: e2.mac, srcMac: base.srcMac, src: base.src, dst: base.dst });
    await sleep(300);
    expect(out.packets().filter((p) => p.dport === FW_BLOCKED.udp || p.dport === FW_BLOCKED.tcp)).toEqual([]);
    const after = await lab.fwCounters();
    expect(after.passed.packets - before.passed.packets).toBe(1);
    expect(after.droppedUdp.packets - before.droppedUdp.packets).toBe(1);
    expect(after.droppedTcp.packets - before.droppedTcp.packets).toBe(1);
    await out.stop();
  });

  it('routes frames back out of the one-armed device to the engine', async () => {
    const e3 = enginePortOf(lab.plan, 'oa');
    const cap = await capture('eng', e3.name, { direction: 'in' });
    const before = await lab.oaCounters();
    const frame = udpFrame({
      srcMac: e3.mac,
      dstMac: e3.peer.mac,
      src: hostIp(lab.plan, 'cl'),
      dst: lab.plan.service.W4,
      sport: 40001,
      dport: 9,
      ttl: 60,
    });
    await lab.inject('eng', e3.name, frame);
    const [back] = await cap.waitFor((p) => p.dport === 9);
    expect(back).toMatchObject({ srcMac: e3.peer.mac, dstMac: e3.mac, dst: lab.plan.service.W4 });
    const after = await lab.oaCounters();
    expect(after.forwarded.packets - before.forwarded.packets).toBe(1);
    await cap.stop();
  });

  it('records what the IDS receives, in order, with MACs, addresses and ports', async () => {
    const e4 = enginePortOf(lab.plan, 'ids');
    lab.ids.clear();
    const src = hostIp(lab.plan, 'cl');
    const { W4 } = lab.plan.service;
    await lab.inject('eng', e4.name, udpFrame({ srcMac: e4.mac, dstMac: e4.peer.mac, src, dst: W4, sport: 41000, dport: 9, payload: 'one' }));
    await lab.inject('eng', e4.name, tcpFrame({ srcMac: e4.mac, dstMac: e4.peer.mac, src, dst: W4, sport: 41001, dport: 80, flags: 'S' }));
    const got: ParsedPacket[] = await lab.ids.waitFor((p) => p.sport === 41000 || p.sport === 41001, { count: 2 });
    expect(got[0]).toMatchObject({ proto: 'udp', src, dst: W4, sport: 41000, dport: 9, srcMac: e4.mac });
    expect(got[1]).toMatchObject({ proto: 'tcp', src, dst: W4, sport: 41001, dport: 80, tcpFlags: 'S' });
    expect(got[1].time).toBeGreaterThanOrEqual(got[0].time);
    expect(lab.ids.packets()).toHaveLength(2); // nothing else reaches it: the lab is quiet
  });

  it('emits IDS alerts toward the engine port', async () => {
    const e4 = enginePortOf(lab.plan, 'ids');
    const cap = await capture('eng', e4.name, { direction: 'in' });
    const { W1, W6 } = lab.plan.service;
    const sent = await lab.ids.alert({ dst: W1, dport: 9, payload: 'attack seen' });
    await lab.ids.alert({ dst: W1, dport: 80, proto: 'tcp', src: hostIp(lab.plan, 'cl'), sport: 41002 });
    await lab.ids.alert({ dst: W6, dport: 9 });
    const [udpAlert, rst, v6] = await cap.waitFor(() => true, { count: 3 });
    expect(udpAlert).toMatchObject({ proto: 'udp', srcMac: e4.peer.mac, dstMac: e4.mac, src: hostIp(lab.plan, 'ids'), dst: W1, dport: 9 });
    expect(udpAlert.payload?.toString()).toBe('attack seen');
    expect(sent).toMatchObject({ dst: W1, dport: 9 });
    expect(rst).toMatchObject({ proto: 'tcp', tcpFlags: 'R', src: hostIp(lab.plan, 'cl'), dst: W1, dport: 80 });
    expect(v6).toMatchObject({ proto: 'udp', src: hostIp(lab.plan, 'ids', 6), dst: W6 });
    // The recorder keeps only what the IDS receives, not its own alerts.
    expect(lab.ids.packets().filter((p) => p.srcMac === e4.peer.mac)).toEqual([]);
    await cap.stop();
  });

  it('carries real traffic end to end through a hand-written steering table', async () => {
    await lab.run('eng', ['nft', '-f', '-'], { input: smokeSteering(lab.plan) });
    try {
      const { W1, W6 } = lab.plan.service;
      expect(await curl('cl', `http://${W1}/`)).toBe(`server=slo port=80 local=${W1} remote=${hostIp(lab.plan, 'cl')}\n`);
      expect(await curl('cl', `http://[${W6}]/`)).toContain(`remote=${hostIp(lab.plan, 'cl', 6)}`);
      // The firewall is in the path: its blocked port times out.
      const blocked = await lab.tryExec('cl', ['curl', '-sS', '--max-time', '1', `http://${W1}:${FW_BLOCKED.tcp}/`]);
      expect(blocked.code).not.toBe(0);
      // ISP mode: cl2 reaches the upstream host through fw and rt.
      expect(await curl('cl2', `http://${lab.plan.upstream.ipv4}/`)).toContain(`server=rt port=80 local=${lab.plan.upstream.ipv4} remote=${hostIp(lab.plan, 'cl2')}`);
      const bytes = (await lab.exec('cl', 'curl', '-sS', '-o', '/dev/null', '-w', '%{size_download}', `http://${W1}/bytes/20000000`)).stdout;
      expect(Number(bytes)).toBe(20_000_000);
    } finally {
      await lab.tryExec('eng', ['nft', 'delete', 'table', 'netdev', 'labsmoke']);
    }
  });

  it('describes a demo configuration that follows the YANG module', () => {
    const cfg = lab.demoConfig();
    const ifaces = new Set(cfg.interfaces.interface.map((i) => i.name));
    const devices = new Set(cfg.devices.device.map((d) => d.name));
    const pools = new Set(cfg.pools.pool.map((p) => p.name));
    expect(cfg.interfaces.interface.filter((i) => i.role === 'uplink').map((i) => i.name)).toEqual(['e0']);
    for (const d of cfg.devices.device) for (const leg of d.leg) expect(ifaces.has(leg.interface), `${d.name}/${leg.name}`).toBe(true);
    expect(cfg.devices.device.find((d) => d.name === 'fw')?.leg.map((l) => l.mac)).toEqual([undefined, undefined]);
    for (const s of cfg.services.service) {
      const steps = [...s.port.flatMap((p) => p.step), ...(s['source-keyed']?.step ?? [])];
      for (const st of steps) {
        expect(st.device === undefined ? pools.has(st.pool ?? '') : devices.has(st.device), `${s.name} step ${st.seq}`).toBe(true);
        for (const c of st['copy-to']) expect(devices.has(c)).toBe(true);
      }
    }
    const names = cfg.services.service.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['web', 'web-nat', 'web-alias', 'web-ids', 'web6', 'isp']));
    const isp = cfg.services.service.find((s) => s.name === 'isp')?.['source-keyed'];
    expect(isp).toMatchObject({ 'client-side': 'cl2', upstream: 'rt', 'client-prefix': lab.plan.ispPrefix.ipv4 });
  });
});

describe.skipIf(!isRoot)(`lab lifecycle (${isRoot ? 'root' : NEEDS_ROOT})`, () => {
  it('down() removes every namespace and process, and can be called twice', async () => {
    const lab = await Lab.up({ ids: true });
    const d = lab.describe();
    const extra = lab.spawn('slo', ['sleep', '60']);
    await lab.down();
    await lab.down();
    for (const ns of Object.values(d.namespaces)) expect(netnsExists(ns), ns).toBe(false);
    for (const pid of [...d.pids, extra.pid]) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(existsSync(d.stateFile)).toBe(false);
    expect(existsSync(`/etc/netns/${d.namespaces.cl}`)).toBe(false);
    expect(lab.timings.down).toBeLessThan(5000);
  });

  it('cleans up what it made when up() fails halfway', async () => {
    const runId = 'f0' + Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
    // Port 70000 makes the servers fail after every namespace exists.
    await expect(Lab.up({ runId, tcpPorts: [70000], ids: false })).rejects.toThrow(/server/);
    const left = (await readdir('/run/netns')).filter((n) => n.startsWith(`vl${runId}-`));
    expect(left).toEqual([]);
    expect(existsSync(`/run/vcn-lab/vl${runId}.json`)).toBe(false);
  });

  it('cleanupStale() removes a lab whose owner was SIGKILLed, and leaves live labs alone', async () => {
    const live = await Lab.up({ servers: false, ids: false });
    let crashed: Awaited<ReturnType<typeof startLabChild>> | undefined;
    try {
      crashed = await startLabChild(['--no-ids']);
      const d = crashed.description;
      const serverPids = d.servers.map((s) => s.pid).filter((p): p is number => p !== null);
      expect(serverPids).toHaveLength(4);
      crashed.child.kill('SIGKILL');
      await new Promise((r) => crashed?.child.once('exit', r));
      expect(netnsExists(d.namespaces.eng)).toBe(true);

      const removed = await cleanupStale();
      expect(removed).toEqual(expect.arrayContaining(Object.values(d.namespaces)));
      for (const ns of Object.values(d.namespaces)) expect(netnsExists(ns), ns).toBe(false);
      for (const pid of serverPids) expect(alive(pid), `server pid ${pid}`).toBe(false);
      expect(existsSync(d.stateFile)).toBe(false);
      // The live lab, owned by this process, is untouched.
      expect(netnsExists(live.ns('eng'))).toBe(true);
      expect(existsSync(live.plan.stateFile)).toBe(true);
    } finally {
      if (crashed && crashed.child.exitCode === null && crashed.child.signalCode === null) crashed.child.kill('SIGKILL');
      await cleanupStale();
      await live.down();
    }
  });
});
