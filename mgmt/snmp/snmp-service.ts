/**
 * SNMP in the daemon: keeps snmpd (child process, config generated from
 * system/snmp of the running configuration into a per-instance directory)
 * and the VCN-MIB AgentX subagent in line with the running configuration,
 * and turns commits and device events into notifications. Commits are
 * found by watching the store's running commit id, so commits from any
 * front end and automatic reverts are seen, like the NETCONF notifications.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Datapath } from '../../appliance/datapath/datapath.js';
import type { Config } from '../../appliance/model/config.generated.js';
import type { Billing } from '../accounting/billing.js';
import type { Store } from '../store/store.js';
import { AgentxSession } from './agentx-session.js';
import { MibTree } from './mib-tree.js';
import { SnmpdProcess } from './snmpd-process.js';
import { snmpdConf, snmpdInputs } from './snmpd-config.js';
import { buildMib, configCommittedVarbinds, eventVarbinds, VCN_MIB, type DeviceHealth } from './vcn-mib.js';

export interface SnmpOptions {
  /** Per-instance directory: snmpd.conf, the AgentX socket, snmpd's log and persistent state. */
  dir: string;
  /** Run snmpd in this network namespace (the engine's). */
  netns?: string;
  /** How often the running commit and the event log are checked (ms, default 500). */
  watchMs?: number;
  /** Counter readings younger than this are reused by SNMP requests (ms, default 1000). */
  counterMaxAgeMs?: number;
}

export interface SnmpContext {
  store: Store;
  datapath: Datapath;
  billing: Billing;
  dataplaneLoaded: () => boolean;
  log: (line: string) => void;
  /** Live device health (mgmt/health) when it runs; otherwise health is read from the event log. */
  health?: () => Map<string, DeviceHealth>;
}

/** Engine ID: 0x80 | enterprise 32473 (placeholder, as the MIB), format 5 (octets), 8 random octets kept in the store. */
export function snmpEngineId(store: Store): string {
  let id = store.setting('snmp.engine-id');
  if (!id) {
    id = `80007ed905${randomBytes(8).toString('hex')}`;
    store.setSetting('snmp.engine-id', id);
  }
  return id;
}

const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

export class SnmpService {
  readonly snmpd: SnmpdProcess;
  readonly engineId: string;
  agent: AgentxSession | undefined;
  private inputs: string | undefined;
  private lastCommit: number;
  private lastEvent: number;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly startedAt = Date.now();
  private cache: { key: string; tree: MibTree } | undefined;
  private configCache: { id: number | null; config: Config | undefined } | undefined;
  private stopped = false;
  /** No automatic snmpd restart before this time (ms since the epoch) after a failed start. */
  private retryAt = 0;
  /** How long the last tree build took (ms). */
  private buildMs = 0;

  constructor(
    private readonly ctx: SnmpContext,
    private readonly o: SnmpOptions,
  ) {
    this.snmpd = new SnmpdProcess({ dir: o.dir, netns: o.netns, log: ctx.log });
    this.engineId = snmpEngineId(ctx.store);
    this.lastCommit = ctx.store.runningId() ?? 0;
    this.lastEvent = (ctx.store.db.prepare('SELECT max(id) FROM event').pluck().get() as number | null) ?? 0;
  }

  async start(): Promise<void> {
    // The first counter reading, so that the first SNMP request need not wait for the kernel.
    void this.ctx.billing.fresh().catch((e: Error) => this.ctx.log(`snmp: first counter reading failed: ${e.message}`));
    await this.sync();
    this.timer = setInterval(() => this.serial(() => this.poll()), this.o.watchMs ?? 500);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.queue;
    await this.agent?.stop();
    this.agent = undefined;
    await this.snmpd.stop();
  }

  /** Checks the running commit and the event log now; resolves when that (and every earlier check) has run. */
  settle(): Promise<void> {
    this.serial(() => this.poll());
    return this.queue;
  }

  private serial(op: () => Promise<void>): void {
    this.queue = this.queue.then(op).catch((e: Error) => this.ctx.log(`snmp: ${e.message}`));
  }

  private running(): { id: number | null; config: Config | undefined } {
    const id = this.ctx.store.runningId();
    if (this.configCache?.id !== id) this.configCache = this.ctx.store.running({ readonly: true });
    return this.configCache;
  }

  /** Brings snmpd and the subagent in line with the running configuration. */
  private async sync(): Promise<void> {
    if (this.stopped) return;
    const { config } = this.running();
    if (!config || !config.system.snmp.enabled) {
      if (this.inputs !== undefined) this.ctx.log('snmp: disabled; stopping snmpd and the subagent');
      this.inputs = undefined;
      await this.agent?.stop();
      this.agent = undefined;
      await this.snmpd.stop();
      return;
    }
    const inputs = snmpdInputs(config);
    if (inputs !== this.inputs || !this.snmpd.running()) {
      this.inputs = inputs;
      try {
        await this.snmpd.start(snmpdConf(config, { agentxSocket: this.snmpd.socket, engineId: this.engineId }));
      } catch (e) {
        // E.g. the port is taken: try again in 10 s (or at the next commit), not at every check.
        this.retryAt = Date.now() + 10_000;
        throw e;
      }
    }
    if (!this.agent) {
      this.agent = new AgentxSession({
        socket: this.snmpd.socket,
        subtree: VCN_MIB,
        id: VCN_MIB,
        descr: `VCN appliance ${VERSION}`,
        tree: () => this.tree(),
        log: this.ctx.log,
      });
      this.agent.start();
    }
    // A fresh snmpd: wait for the subagent so notifications that follow reach the new instance.
    await Promise.race([this.agent.registered(), new Promise((r) => setTimeout(r, 5000))]);
  }

  private async poll(): Promise<void> {
    const id = this.ctx.store.runningId() ?? 0;
    if (id > this.lastCommit) {
      const commits = this.ctx.store
        .history(50)
        .filter((c) => c.id > this.lastCommit)
        .sort((a, b) => a.id - b.id);
      this.lastCommit = id;
      await this.sync();
      for (const c of commits) await this.agent?.notify(configCommittedVarbinds(c));
    } else if (!this.stopped && this.inputs !== undefined && !this.snmpd.running() && Date.now() >= this.retryAt) {
      this.ctx.log('snmp: snmpd is gone; starting it again');
      await this.sync();
    }
    const events = this.ctx.store.db
      .prepare("SELECT id, kind, subject, detail FROM event WHERE id > ? AND kind IN ('device-down','device-up','failover','service-unavailable') ORDER BY id")
      .all(this.lastEvent) as { id: number; kind: string; subject: string | null; detail: string | null }[];
    const maxId = this.ctx.store.db.prepare('SELECT max(id) FROM event').pluck().get() as number | null;
    this.lastEvent = Math.max(this.lastEvent, maxId ?? 0);
    for (const e of events) {
      const vbs = eventVarbinds(e.kind, e.subject, e.detail ? (JSON.parse(e.detail) as Record<string, unknown>) : {});
      if (vbs) await this.agent?.notify(vbs);
    }
  }

  /** The MIB as of the latest counter reading; rebuilt only when the reading or the running commit changed. */
  async tree(): Promise<MibTree> {
    // Rebuilding blocks the subagent: at most a tenth of the time goes to it (10k services: ~3 s between readings).
    const reading = await this.ctx.billing.recent(Math.max(this.o.counterMaxAgeMs ?? 1000, 10 * this.buildMs));
    const { id, config } = this.running();
    const lastEvent = this.ctx.store.db.prepare('SELECT max(id) FROM event').pluck().get() as number | null;
    const key = `${reading.at}/${id}/${lastEvent}`;
    if (this.cache?.key === key) return this.cache.tree;
    const t0 = performance.now();
    const data = buildMib({
      version: VERSION,
      startedAt: this.startedAt,
      now: Date.now(),
      runningCommit: id,
      dataplaneLoaded: this.ctx.dataplaneLoaded(),
      config,
      ruleset: reading.ruleset,
      counters: reading.values,
      commits: this.ctx.store.history(100).reverse(),
      health: this.health(),
    });
    const tree = new MibTree(data, VCN_MIB);
    this.buildMs = performance.now() - t0;
    this.cache = { key, tree };
    return tree;
  }

  /** Reads device health from live state (mgmt/health) instead of the event log. */
  useHealth(source: () => Map<string, DeviceHealth>): void {
    this.ctx.health = source;
    this.cache = undefined;
  }

  /** Device health from the event log (written by health checking). */
  private health(): Map<string, DeviceHealth> {
    if (this.ctx.health) return this.ctx.health();
    const out = new Map<string, DeviceHealth>();
    const rows = this.ctx.store.db
      .prepare("SELECT kind, subject, time, detail FROM event WHERE kind IN ('device-down','device-up') AND subject IS NOT NULL ORDER BY id")
      .all() as { kind: string; subject: string; time: number; detail: string | null }[];
    for (const r of rows) {
      const h = out.get(r.subject) ?? { oper: 'up', lastChange: r.time, failures: 0 };
      h.oper = r.kind === 'device-down' ? 'down' : 'up';
      h.lastChange = r.time;
      if (r.kind === 'device-down') h.failures++;
      const us = r.detail ? (JSON.parse(r.detail) as { responseUs?: number }).responseUs : undefined;
      if (typeof us === 'number') h.lastResponseUs = us;
      out.set(r.subject, h);
    }
    return out;
  }
}
