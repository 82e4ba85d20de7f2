/**
 * The lab: a world of network namespaces around the engine namespace.
 *
 *   const lab = await Lab.up();
 *   try { await lab.exec('cl', 'ping', '-c1', hostIp(lab.plan, 'rt')) }
 *   finally { await lab.down() }
 */
import { existsSync } from 'node:fs';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Config } from '../../appliance/model/config.generated.js';
import { Capture } from './capture.js';
import type { CaptureOptions } from './capture.js';
import { BRIDGE_SYSCTLS, configLines, dataIfaces, netnsAddLines, sysctlsFor, vethLines } from './commands.js';
import { demoConfig } from './demo-config.js';
import { Ids } from './ids.js';
import { injectFrame, ipBatch, listNetns, netnsExecArgv, nsenterArgv, run, spawnBackground } from './netns.js';
import type { BackgroundProcess, RunOptions, RunResult } from './netns.js';
import { FW_BLOCKED, FW_TABLE, OA_TABLE, parseCounters, rulesetFor } from './rulesets.js';
import { readServerLog, serverPlans, startServer } from './servers.js';
import type { ServerPlan, ServerRecord } from './servers.js';
import { cleanupStale, destroy, processStart, writeState } from './state.js';
import type { LabState } from './state.js';
import { planLab, prefixOf, randomRunId, ROLES, STATE_DIR } from './topology.js';
import type { EnginePortPlan, HostPlan, HostRole, LabOptions, LabPlan, Role, ServerRole, ServiceIps } from './topology.js';

export interface Counter {
  packets: number;
  bytes: number;
}

export interface LinkStats {
  rx: Counter;
  tx: Counter;
}

export interface LabDescription {
  runId: string;
  prefix: string;
  stateFile: string;
  workDir: string;
  namespaces: Record<Role, string>;
  engine: { ns: string; ports: EnginePortPlan[] };
  hosts: Record<HostRole, HostPlan>;
  service: ServiceIps;
  servicePrefix: { ipv4: string; ipv6: string };
  upstream: { ipv4: string; ipv6: string };
  uplinkNextHop: { ipv4: string; ipv6: string; mac: string };
  ispPrefix: { ipv4: string; ipv6: string };
  servers: (ServerPlan & { pid: number | null })[];
  ids: { ns: string; ifname: string; mac: string; enginePort: string; pid: number | null };
  firewall: { ns: string; bridge: string; table: string; blocked: { udp: number; tcp: number } };
  pids: number[];
}

const RESOLV = '# vcn lab: no DNS in lab namespaces\noptions timeout:1 attempts:1\n';
const HOSTS = '127.0.0.1 localhost\n::1 localhost\n';

export class Lab {
  /** Milliseconds per bring-up phase, and `down` once torn down. */
  readonly timings: Record<string, number> = {};
  private readonly servers = new Map<ServerRole, BackgroundProcess>();
  private readonly procs = new Set<BackgroundProcess>();
  private readonly captures = new Set<Capture>();
  private idsRecorder: Ids;
  private downing: Promise<void> | null = null;
  private persisting: Promise<void> = Promise.resolve();

  private constructor(
    readonly plan: LabPlan,
    private readonly state: LabState,
  ) {
    this.idsRecorder = new Ids(plan, null);
  }

  /** Builds a lab; on any failure removes what it made and rethrows. */
  static async up(opts: LabOptions = {}): Promise<Lab> {
    const t0 = performance.now();
    await cleanupStale();
    const plan = planLab({ ...opts, runId: await freeRunId(opts.runId) });
    const ownerStart = await processStart(process.pid);
    if (ownerStart === null) throw new Error('lab: cannot read our own /proc entry');
    const state: LabState = {
      prefix: plan.prefix,
      ownerPid: process.pid,
      ownerStart,
      namespaces: ROLES.map((r) => plan.ns[r]),
      pids: [],
      etcDirs: ROLES.map((r) => `/etc/netns/${plan.ns[r]}`),
      workDir: plan.workDir,
      stateFile: plan.stateFile,
      createdAt: new Date().toISOString(),
    };
    const lab = new Lab(plan, state);
    lab.timings.cleanupStale = performance.now() - t0;
    try {
      await lab.build();
    } catch (e) {
      await lab.down().catch(() => undefined);
      throw e;
    }
    lab.timings.up = performance.now() - t0;
    return lab;
  }

  private async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await work();
    } finally {
      this.timings[name] = performance.now() - t;
    }
  }

  private async build(): Promise<void> {
    const plan = this.plan;
    // The state file comes first: a crash from here on is cleaned up by cleanupStale().
    await this.phase('files', async () => {
      await writeState(this.state);
      await mkdir(plan.workDir, { recursive: true });
      await Promise.all(
        this.state.etcDirs.map(async (d) => {
          await mkdir(d, { recursive: true });
          await writeFile(`${d}/resolv.conf`, RESOLV);
          await writeFile(`${d}/hosts`, HOSTS);
        }),
      );
    });
    await this.phase('netns', () => ipBatch(null, netnsAddLines(plan)));
    await this.phase('sysctl', () => Promise.all(ROLES.map((r) => this.prepareNs(r))));
    await this.phase('veth', () => ipBatch(null, vethLines(plan)));
    await this.phase('config', () => Promise.all(ROLES.map((r) => ipBatch(plan.ns[r], configLines(plan, r)))));
    if (!plan.offloads) await this.phase('offloads', () => Promise.all(ROLES.map((r) => this.offloadsOff(r))));
    await this.phase('processes', async () => {
      const work: Promise<unknown>[] = [];
      if (plan.servers)
        for (const sp of serverPlans(plan))
          work.push(
            startServer(sp).then((p) => {
              this.servers.set(sp.role, p);
              this.track(p);
            }),
          );
      if (plan.ids)
        work.push(
          Ids.start(plan).then((ids) => {
            this.idsRecorder = ids;
            if (ids.recorder) this.track(ids.recorder.process);
          }),
        );
      // allSettled: everything that started must be known before a failure tears down.
      const results = await Promise.allSettled(work);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
    await this.persist();
  }

  /** Sysctls and nft tables go in before the veths, so interfaces inherit the defaults. */
  private async prepareNs(role: Role): Promise<void> {
    const steps = [`sysctl -qw ${sysctlsFor(role).join(' ')}`];
    if (role === 'fw') steps.push(`sysctl -qew ${BRIDGE_SYSCTLS.join(' ')}`);
    const ruleset = rulesetFor(this.plan, role);
    if (ruleset) steps.push('nft -f -');
    await run(nsenterArgv(this.plan.ns[role], ['sh', '-ec', steps.join('\n')]), { input: ruleset ?? '' });
  }

  private async offloadsOff(role: Role): Promise<void> {
    const cmds = dataIfaces(this.plan, role).map((i) => `ethtool -K ${i} gro off gso off tso off`);
    if (cmds.length) await run(nsenterArgv(this.plan.ns[role], ['sh', '-ec', cmds.join('\n')]));
  }

  private track(p: BackgroundProcess): void {
    this.procs.add(p);
    this.state.pids.push(p.pid);
    void p.exited.then(() => {
      this.procs.delete(p);
      this.state.pids = this.state.pids.filter((x) => x !== p.pid);
    });
  }

  /** Rewrites the state file (serialised: several writers may ask at once). */
  private persist(): Promise<void> {
    this.persisting = this.persisting.then(() => (this.downing ? undefined : writeState(this.state))).catch(() => undefined);
    return this.persisting;
  }

  ns(role: Role): string {
    return this.plan.ns[role];
  }

  get ids(): Ids {
    return this.idsRecorder;
  }

  /** Runs a command inside a namespace (`ip netns exec`); throws unless it exits 0. */
  exec(role: Role, ...argv: string[]): Promise<RunResult> {
    return run(netnsExecArgv(this.ns(role), argv));
  }

  /** Like exec, with options (stdin `input`, `timeoutMs`, `allowFail`). */
  run(role: Role, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(netnsExecArgv(this.ns(role), argv), opts);
  }

  /** Like run, but a non-zero exit is returned, not thrown. */
  tryExec(role: Role, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(netnsExecArgv(this.ns(role), argv), { ...opts, allowFail: true });
  }

  /** Starts a background process in a namespace; it is killed (by PID) at down() if still running. */
  spawn(role: Role, argv: string[]): BackgroundProcess {
    const p = spawnBackground(netnsExecArgv(this.ns(role), argv));
    this.track(p);
    void this.persist();
    return p;
  }

  /** Starts tcpdump on an interface; stop it with capture.stop(), or let down() do it. */
  async capture(role: Role, ifname: string, opts?: CaptureOptions): Promise<Capture> {
    const c = await Capture.start(this.ns(role), ifname, opts);
    this.captures.add(c);
    this.track(c.process);
    void this.persist();
    return c;
  }

  /** Sends one raw Ethernet frame out of an interface (works in the engine namespace, which has no IPs). */
  inject(role: Role, ifname: string, frame: Buffer): Promise<void> {
    return injectFrame(this.ns(role), ifname, frame);
  }

  /** What a server received (HTTP requests and UDP datagrams), oldest first. */
  serverLog(role: ServerRole): Promise<ServerRecord[]> {
    return readServerLog(`${this.plan.workDir}/${role}.log`);
  }

  async clearServerLog(role: ServerRole): Promise<void> {
    const path = `${this.plan.workDir}/${role}.log`;
    if (existsSync(path)) await truncate(path);
  }

  /** The fw's nft counters: what the bridge passed and what its rules dropped. */
  async fwCounters(): Promise<{ passed: Counter; droppedUdp: Counter; droppedTcp: Counter }> {
    const c = await this.counters('fw', 'bridge', FW_TABLE);
    return { passed: c('passed'), droppedUdp: c('dropped_udp'), droppedTcp: c('dropped_tcp') };
  }

  /** What the one-armed device routed back into the engine. */
  async oaCounters(): Promise<{ forwarded: Counter }> {
    const c = await this.counters('oa', 'inet', OA_TABLE);
    return { forwarded: c('forwarded') };
  }

  private async counters(role: Role, family: string, table: string): Promise<(name: string) => Counter> {
    const r = await run(nsenterArgv(this.ns(role), ['nft', '-j', 'list', 'counters', 'table', family, table]));
    const list = parseCounters(r.stdout);
    return (name) => {
      const c = list.find((x) => x.name === name);
      if (!c) throw new Error(`lab: no counter ${name} in ${family} ${table} of ${role}`);
      return { packets: c.packets, bytes: c.bytes };
    };
  }

  /** Interface counters (rx/tx packets and bytes) as the kernel keeps them. */
  async linkStats(role: Role, ifname: string): Promise<LinkStats> {
    const r = await run(['ip', '-n', this.ns(role), '-j', '-s', 'link', 'show', 'dev', ifname]);
    const [link] = JSON.parse(r.stdout) as { stats64: { rx: Counter; tx: Counter } }[];
    const { rx, tx } = link.stats64;
    return { rx: { packets: rx.packets, bytes: rx.bytes }, tx: { packets: tx.packets, bytes: tx.bytes } };
  }

  describe(): LabDescription {
    const p = this.plan;
    const ids = this.idsRecorder;
    // A copy: callers may edit what they get without touching the plan.
    return structuredClone({
      runId: p.runId,
      prefix: p.prefix,
      stateFile: p.stateFile,
      workDir: p.workDir,
      namespaces: p.ns,
      engine: p.engine,
      hosts: p.hosts,
      service: p.service,
      servicePrefix: p.servicePrefix,
      upstream: p.upstream,
      uplinkNextHop: p.uplinkNextHop,
      ispPrefix: p.ispPrefix,
      servers: p.servers ? serverPlans(p).map((s) => ({ ...s, pid: this.servers.get(s.role)?.pid ?? null })) : [],
      ids: { ns: ids.ns, ifname: ids.ifname, mac: ids.mac, enginePort: ids.enginePort, pid: ids.pid ?? null },
      firewall: { ns: p.ns.fw, bridge: 'br0', table: FW_TABLE, blocked: { ...FW_BLOCKED } },
      pids: [...this.state.pids],
    });
  }

  /** A VCN configuration for this lab (see demo-config.ts). */
  demoConfig(): Config {
    return demoConfig(this.plan);
  }

  /** Kills every process in the lab (by PID) and deletes its namespaces. Safe to call twice. */
  down(): Promise<void> {
    this.downing ??= (async () => {
      const t = performance.now();
      await this.persisting;
      await Promise.all([...[...this.captures].map((c) => c.stop()), this.idsRecorder.stop(), ...[...this.procs].map((p) => p.stop())]);
      await destroy(this.state);
      this.timings.down = performance.now() - t;
    })();
    return this.downing;
  }
}

async function freeRunId(wanted: string | undefined): Promise<string> {
  const taken = (id: string): boolean => {
    const prefix = prefixOf(id);
    return existing.some((n) => n.startsWith(prefix)) || existsSync(`${STATE_DIR}/${prefix.slice(0, -1)}.json`);
  };
  const existing = await listNetns();
  if (wanted !== undefined) {
    if (taken(wanted)) throw new Error(`lab: run id ${wanted} is in use`);
    return wanted;
  }
  for (let i = 0; i < 50; i++) {
    const id = randomRunId();
    if (!taken(id)) return id;
  }
  throw new Error('lab: no free run id');
}
