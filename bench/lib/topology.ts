/**
 * The benchmark's two worlds, up at the same time so that runs can alternate:
 *
 *   E (engine-steered)                          H (hard-wired)
 *   ecl c0 ══ e0 ┐        ┌ e1 ══ fw0 ┐        hcl c0 ══ r0 hrt r1 ══ fw0 ┐
 *                eng      │          br0 efw        (ip_forward)        br0 hfw ── fwm ══ ids0 hids
 *                (nft)    └ e2 ══ fw1 ┘                  r2             fw1 ┘    (tc mirror, phase c)
 *                ├ e3 ══ s0 esv (W on lo, sink)          ║               ║
 *                └ e4 ══ ids0 eids (IDS sink)           d0 hsd          s0 hsv (W on lo, sink)
 *
 * E's one hop is ecl → eng → esv; H's is hcl → hrt → hsd (a plain forward).
 * Sinks drop the UDP load at netdev ingress, the same rule on both sides; the
 * IDS sinks drop everything. IPv6 is off everywhere (no ND/MLD in the counts),
 * br_netfilter's hooks are off in the bridges (calibration, pitfall 2).
 *
 * Crash safety reuses the lab's state files: a bench killed hard is torn down
 * by the next lab or bench start (cleanupStale), and all names carry a random
 * run id, so parallel runs cannot collide.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { ipBatch, listNetns, nsenterArgv, run } from '../../cli/lab/netns.js';
import { destroy, processStart, writeState, type LabState } from '../../cli/lab/state.js';
import { STATE_DIR } from '../../cli/lab/topology.js';
import { cleanupStale } from '../../cli/lab/index.js';
import type { Path } from './measure.js';
import type { Flow } from './sender.js';

export const NS_ROLES = ['eng', 'ecl', 'efw', 'esv', 'eids', 'hcl', 'hrt', 'hfw', 'hsv', 'hsd', 'hids'] as const;
export type NsRole = (typeof NS_ROLES)[number];

/** One end of a veth: namespace role, interface name, MAC. */
export interface End {
  role: NsRole;
  ifname: string;
  mac: string;
}

export interface BenchPlan {
  runId: string;
  ns: Record<NsRole, string>;
  /** Every interface by "<role>/<ifname>". */
  ends: Record<string, End>;
  links: [End, End][];
  client: string;
  /** Service addresses: one engine hop, the firewall chain, the chain with an IDS copy. */
  w: { hop: string; chain: string; ids: string };
  /** The server's own address, the same in esv and hsv. */
  server: string;
  udpPort: number;
  tcpPort: number;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

export function planBench(runId: string, net = 231): BenchPlan {
  const ns = Object.fromEntries(NS_ROLES.map((r) => [r, `vb${runId}-${r}`])) as Record<NsRole, string>;
  const ends: Record<string, End> = {};
  let k = 0;
  const end = (role: NsRole, ifname: string): End => {
    const e = { role, ifname, mac: `02:b0:${runId.slice(0, 2)}:${runId.slice(2, 4)}:${hex2(NS_ROLES.indexOf(role))}:${hex2(k++)}` };
    ends[`${role}/${ifname}`] = e;
    return e;
  };
  const links: [End, End][] = [
    [end('eng', 'e0'), end('ecl', 'c0')],
    [end('eng', 'e1'), end('efw', 'fw0')],
    [end('eng', 'e2'), end('efw', 'fw1')],
    [end('eng', 'e3'), end('esv', 's0')],
    [end('eng', 'e4'), end('eids', 'ids0')],
    [end('hcl', 'c0'), end('hrt', 'r0')],
    [end('hrt', 'r1'), end('hfw', 'fw0')],
    [end('hfw', 'fw1'), end('hsv', 's0')],
    [end('hrt', 'r2'), end('hsd', 'd0')],
    [end('hfw', 'fwm'), end('hids', 'ids0')],
  ];
  const v4 = (a: number, b: number): string => `10.${net}.${a}.${b}`;
  return {
    runId,
    ns,
    ends,
    links,
    client: v4(1, 2),
    w: { hop: v4(100, 1), chain: v4(100, 2), ids: v4(100, 3) },
    server: v4(3, 2),
    udpPort: 9,
    tcpPort: 5201,
  };
}

const neigh = (ip: string, mac: string, dev: string): string => `neigh replace ${ip} lladdr ${mac} dev ${dev} nud permanent`;

/** `ip -batch` lines per namespace; gateways the engine stands for are permanent neighbours (it answers no ARP). */
function configLines(p: BenchPlan): Record<NsRole, string[]> {
  const mac = (key: string): string => p.ends[key].mac;
  const net = p.client.split('.').slice(0, 2).join('.');
  const up = (...ifs: string[]): string[] => ['link set lo up', ...ifs.map((i) => `link set ${i} up`)];
  const bridge = ['link add br0 type bridge stp_state 0 mcast_snooping 0', 'link set fw0 master br0', 'link set fw1 master br0', 'link set br0 up'];
  const host = (dev: string, addr: string, gw: string, gwMac: string, lo: string[]): string[] => [
    `addr add ${addr}/24 dev ${dev}`,
    ...lo.map((w) => `addr add ${w}/32 dev lo`),
    neigh(gw, gwMac, dev),
    `route add default via ${gw} dev ${dev}`,
  ];
  const { hop, chain, ids } = p.w;
  return {
    eng: up('e0', 'e1', 'e2', 'e3', 'e4'),
    ecl: [...up('c0'), ...host('c0', p.client, `${net}.1.1`, mac('eng/e0'), [])],
    efw: [...up('fw0', 'fw1'), ...bridge],
    esv: [...up('s0'), ...host('s0', p.server, `${net}.3.1`, mac('eng/e3'), [hop, chain, ids])],
    eids: up('ids0'),
    hcl: [...up('c0'), ...host('c0', p.client, `${net}.1.1`, mac('hrt/r0'), [])],
    hrt: [
      ...up('r0', 'r1', 'r2'),
      `addr add ${net}.1.1/24 dev r0`,
      `addr add ${net}.3.1/24 dev r1`,
      `addr add ${net}.4.1/24 dev r2`,
      neigh(p.client, mac('hcl/c0'), 'r0'),
      neigh(p.server, mac('hsv/s0'), 'r1'),
      neigh(`${net}.4.2`, mac('hsd/d0'), 'r2'),
      `route add ${chain}/32 via ${p.server} dev r1`,
      `route add ${ids}/32 via ${p.server} dev r1`,
      `route add ${hop}/32 via ${net}.4.2 dev r2`,
    ],
    hfw: [...up('fw0', 'fw1', 'fwm'), ...bridge],
    hsv: [...up('s0'), ...host('s0', p.server, `${net}.3.1`, mac('hrt/r1'), [chain, ids])],
    hsd: [...up('d0'), ...host('d0', `${net}.4.2`, `${net}.4.1`, mac('hrt/r2'), [hop])],
    hids: up('ids0'),
  };
}

const sinkRuleset = (dev: string, port: number): string =>
  `table netdev sink {\n  chain in { type filter hook ingress device "${dev}" priority 0; policy accept; udp dport ${port} drop; }\n}\n`;
const idsRuleset = (dev: string): string => `table netdev sink {\n  chain in { type filter hook ingress device "${dev}" priority 0; policy drop; }\n}\n`;

export class BenchNet {
  private downing: Promise<void> | null = null;

  private constructor(
    readonly plan: BenchPlan,
    /** Scratch directory (the compiled sender); removed at down(). */
    readonly workDir: string,
    private readonly state: LabState,
  ) {}

  static async up(): Promise<BenchNet> {
    await cleanupStale();
    const taken = await listNetns();
    let runId = '';
    for (let i = 0; i < 50 && !runId; i++) {
      const id = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0');
      if (!taken.some((n) => n.startsWith(`vb${id}-`))) runId = id;
    }
    if (!runId) throw new Error('bench: no free run id');
    const plan = planBench(runId);
    const ownerStart = await processStart(process.pid);
    if (ownerStart === null) throw new Error('bench: cannot read our own /proc entry');
    const workDir = await mkdtemp(`${tmpdir()}/vcn-dpbench-`);
    const state: LabState = {
      prefix: `vb${runId}-`,
      ownerPid: process.pid,
      ownerStart,
      namespaces: NS_ROLES.map((r) => plan.ns[r]),
      pids: [],
      etcDirs: [],
      workDir,
      stateFile: `${STATE_DIR}/vb${runId}.json`,
      createdAt: new Date().toISOString(),
    };
    const net = new BenchNet(plan, workDir, state);
    try {
      // The state file first: from here on a crash is cleaned up by the next start.
      await writeState(state);
      await net.build();
    } catch (e) {
      await net.down().catch(() => undefined);
      throw e;
    }
    return net;
  }

  ns(role: NsRole): string {
    return this.plan.ns[role];
  }

  mac(key: string): string {
    const e = this.plan.ends[key];
    if (!e) throw new Error(`bench: no interface ${key}`);
    return e.mac;
  }

  /** Runs a command in the namespace's network stack (nsenter: no /sys or /etc remount needed here). */
  exec(role: NsRole, argv: string[], input?: string, timeoutMs = 15_000): ReturnType<typeof run> {
    return run(nsenterArgv(this.ns(role), argv), { input, timeoutMs });
  }

  private async build(): Promise<void> {
    const p = this.plan;
    await ipBatch(null, NS_ROLES.map((r) => `netns add ${p.ns[r]}`));
    // Before the veths exist, so that they inherit the defaults.
    await Promise.all(
      NS_ROLES.map((r) => {
        const s = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'];
        if (r === 'hrt') s.push('net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0');
        return this.exec(r, ['sysctl', '-qw', ...s]);
      }),
    );
    await ipBatch(
      null,
      p.links.map(([a, b]) => `link add ${a.ifname} netns ${p.ns[a.role]} address ${a.mac} type veth peer name ${b.ifname} netns ${p.ns[b.role]} address ${b.mac}`),
    );
    const lines = configLines(p);
    await Promise.all(NS_ROLES.map((r) => ipBatch(p.ns[r], lines[r])));
    const brnf = ['net.bridge.bridge-nf-call-iptables=0', 'net.bridge.bridge-nf-call-ip6tables=0', 'net.bridge.bridge-nf-call-arptables=0'];
    await Promise.all([
      this.exec('efw', ['sysctl', '-qew', ...brnf]),
      this.exec('hfw', ['sysctl', '-qew', ...brnf]),
      this.exec('esv', ['nft', '-f', '-'], sinkRuleset('s0', p.udpPort)),
      this.exec('hsv', ['nft', '-f', '-'], sinkRuleset('s0', p.udpPort)),
      this.exec('hsd', ['nft', '-f', '-'], sinkRuleset('d0', p.udpPort)),
      this.exec('eids', ['nft', '-f', '-'], idsRuleset('ids0')),
      this.exec('hids', ['nft', '-f', '-'], idsRuleset('ids0')),
    ]);
  }

  /** H's port mirror: everything entering the firewall from the router is copied to the IDS (tc mirred, as in the calibration's H). */
  async mirror(on: boolean): Promise<void> {
    await run(nsenterArgv(this.ns('hfw'), ['tc', 'qdisc', 'del', 'dev', 'fw0', 'clsact']), { allowFail: true });
    if (!on) return;
    await this.exec('hfw', ['tc', 'qdisc', 'add', 'dev', 'fw0', 'clsact']);
    // This kernel has no cls_matchall: u32 matching zero bits is the match-all.
    await this.exec('hfw', ['tc', 'filter', 'add', 'dev', 'fw0', 'ingress', 'protocol', 'all', 'prio', '1', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'mirror', 'dev', 'fwm']);
  }

  /** The UDP load from a side's client toward a service address (dst MAC: the first hop, engine port or router). */
  path(side: 'e' | 'h', label: string, dst: string, sink: string, extra?: string): Path {
    const client = side === 'e' ? 'ecl/c0' : 'hcl/c0';
    const flow: Flow = {
      ns: this.ns(side === 'e' ? 'ecl' : 'hcl'),
      ifname: 'c0',
      srcMac: this.mac(client),
      dstMac: this.mac(side === 'e' ? 'eng/e0' : 'hrt/r0'),
      srcIp: this.plan.client,
      dstIp: dst,
      dport: this.plan.udpPort,
    };
    return { label, flow, client, sink, extra };
  }

  /** rx and tx packet counters of an interface. */
  async packets(key: string): Promise<{ rx: number; tx: number }> {
    const e = this.plan.ends[key];
    const r = await run(['ip', '-n', this.ns(e.role), '-j', '-s', 'link', 'show', 'dev', e.ifname]);
    const [link] = JSON.parse(r.stdout) as { stats64: { rx: { packets: number }; tx: { packets: number } } }[];
    return { rx: link.stats64.rx.packets, tx: link.stats64.tx.packets };
  }

  /** Kills everything in the namespaces (by PID) and deletes them. Safe to call twice. */
  down(): Promise<void> {
    this.downing ??= destroy(this.state);
    return this.downing;
  }
}
