/**
 * Health checking (issue 7): probes every device of the running
 * configuration at its interval, keeps its oper state, failure count and
 * response time (moving average), and on a failure makes ONE commit through
 * the Northbound (kind failover, user health) that recompiles the running
 * configuration with the device out of service: every service using it moves
 * to its pool alternate at once, or is unavailable when none is left. A
 * device that answers again stays out of service until an operator fails it
 * back (failback()). Passive detection (passive.ts) triggers immediate checks.
 * Every transition is a store event (SNMP traps are sent from those) and is
 * handed to the listeners (NETCONF notifications).
 */
import type { RuntimeState } from '../../appliance/compile/compile.js';
import type { Datapath } from '../../appliance/datapath/datapath.js';
import type { TraceResult } from '../../appliance/datapath/nft-trace.js';
import type { FactsSource } from '../../appliance/engine.js';
import { VcnError } from '../../appliance/errors.js';
import { planProbe, type CheckKind } from '../../appliance/health/probe-plan.js';
import type { Prober, ProbeResult } from '../../appliance/health/prober.js';
import type { Config, Device } from '../../appliance/model/config.generated.js';
import type { CommitResult, Northbound } from '../northbound/northbound.js';
import type { Actor, Store } from '../store/store.js';
import { healthImpact } from './affected.js';
import { saveFailed } from './persist.js';
import { flowTotals, suspects, type FlowTotals } from './passive.js';
import { LinkWatch } from '../../appliance/health/link-watch.js';

export type OperState = 'unknown' | 'up' | 'down';

export interface DeviceHealthState {
  device: string;
  kind: CheckKind;
  oper: OperState;
  /** Out of service because it failed (until failback). */
  failed: boolean;
  maintenance: boolean;
  /** How often the device was declared failed. */
  failures: number;
  consecutiveFailures: number;
  checks: number;
  /** ms since the epoch of the last oper change. */
  lastChange: number;
  lastResponseUs?: number;
  /** Exponential moving average of the response time (alpha 0.25). */
  avgResponseUs?: number;
  lastError?: string;
}

export interface HealthEvent {
  kind: 'device-down' | 'device-up' | 'failover' | 'service-unavailable' | 'failback' | 'device-suspect' | 'failover-failed';
  subject: string;
  detail: Record<string, unknown>;
  time: number;
}

export interface HealthOptions {
  store: Store;
  northbound: Northbound;
  prober: Prober;
  facts: FactsSource;
  /** For passive detection (row counters); none: no passive detection. */
  datapath?: Datapath;
  log?: (line: string) => void;
  /** How often the running configuration is looked at for new/removed devices (ms, default 500). */
  watchMs?: number;
  /** Passive detection period (ms, default 1000; 0: off). */
  passiveMs?: number;
  /** Watch the engine interfaces' carrier (`ip monitor link`) in this namespace; undefined: off. */
  linkWatch?: { netns?: string };
}

const roundTimings = (t: Record<string, number>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)]));

const HEALTH: Actor = { user: 'health', client: 'system' };
const ALPHA = 0.25;
/** How long interfaces made again are collected before one data plane reload. */
const RELOAD_SETTLE_MS = 300;

export class HealthMonitor {
  private readonly devices = new Map<string, DeviceHealthState>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly busy = new Set<string>();
  private readonly listeners: ((e: HealthEvent) => void)[] = [];
  private config: Config | undefined;
  private configId: number | null | undefined = undefined;
  private macs: Record<string, string> = {};
  private watch: NodeJS.Timeout | undefined;
  private passive: NodeJS.Timeout | undefined;
  private lastTotals: FlowTotals | undefined;
  private readonly unanswered = new Map<string, number>();
  private committing = false;
  private reading = false;
  private links: LinkWatch | undefined;
  private readonly recreated = new Set<string>();
  private reloadTimer: NodeJS.Timeout | undefined;
  private commits: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly log: (line: string) => void;
  /** Traces a test flow through the engine (set by start.ts when the kernel data plane runs). */
  trace?: (client: string, serviceIp: string, ms: number) => Promise<TraceResult>;

  constructor(private readonly o: HealthOptions) {
    this.log = o.log ?? (() => undefined);
  }

  async start(): Promise<void> {
    await this.sync();
    if (this.o.linkWatch) {
      this.links = new LinkWatch({ netns: this.o.linkWatch.netns, log: this.log, onDown: (ifname) => this.linkDown(ifname), onRecreated: (ifname) => this.linkRecreated(ifname) });
      this.links.start();
    }
    this.watch = setInterval(() => void this.sync().catch((e: Error) => this.log(`health: ${e.message}`)), this.o.watchMs ?? 500);
    this.watch.unref();
    const passiveMs = this.o.passiveMs ?? 1000;
    if (this.o.datapath && passiveMs > 0) {
      this.passive = setInterval(() => void this.passiveCheck().catch((e: Error) => this.log(`health: passive: ${e.message}`)), passiveMs);
      this.passive.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watch);
    clearInterval(this.passive);
    clearTimeout(this.reloadTimer);
    this.links?.stop();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.commits.catch(() => undefined);
    this.o.prober.close();
  }

  onEvent(fn: (e: HealthEvent) => void): void {
    this.listeners.push(fn);
  }

  states(): DeviceHealthState[] {
    return [...this.devices.values()].sort((a, b) => (a.device < b.device ? -1 : 1));
  }

  state(device: string): DeviceHealthState | undefined {
    return this.devices.get(device);
  }

  runtime(): RuntimeState {
    return this.o.northbound.runtimeState();
  }

  /** Follows the running configuration: new devices get a state and a probe loop, removed ones lose them. */
  private async sync(): Promise<void> {
    if (this.stopped) return;
    const id = this.o.store.runningId();
    if (id === this.configId) return;
    this.configId = id;
    this.config = this.o.store.running({ readonly: true }).config;
    try {
      this.macs = (await this.o.facts()).interfaceMacs;
    } catch (e) {
      this.log(`health: cannot read interface MACs: ${(e as Error).message}`);
    }
    const names = new Set(this.config?.devices.device.map((d) => d.name) ?? []);
    for (const name of [...this.devices.keys()]) {
      if (names.has(name)) continue;
      this.devices.delete(name);
      clearTimeout(this.timers.get(name));
      this.timers.delete(name);
    }
    const failed = this.runtime().failed ?? new Set<string>();
    for (const d of this.config?.devices.device ?? []) {
      const plan = planProbe(this.config!, d, this.macs);
      let s = this.devices.get(d.name);
      if (!s) {
        s = { device: d.name, kind: plan.settings.kind, oper: 'unknown', failed: failed.has(d.name), maintenance: false, failures: 0, consecutiveFailures: 0, checks: 0, lastChange: Date.now() };
        this.devices.set(d.name, s);
      }
      s.kind = plan.settings.kind;
      s.maintenance = d['admin-state'] === 'maintenance';
      if (!this.timers.has(d.name)) this.schedule(d.name, 0);
    }
  }

  private device(name: string): Device | undefined {
    return this.config?.devices.device.find((d) => d.name === name);
  }

  private schedule(name: string, ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(name));
    const t = setTimeout(() => void this.tick(name), ms);
    t.unref();
    this.timers.set(name, t);
  }

  private async tick(name: string): Promise<void> {
    const d = this.device(name);
    if (!d || this.stopped) {
      this.timers.delete(name);
      return;
    }
    const plan = planProbe(this.config!, d, this.macs);
    if ('skip' in plan || d['admin-state'] === 'maintenance' || this.busy.has(name)) {
      this.schedule(name, plan.settings.intervalMs);
      return;
    }
    const r = await this.o.prober.probe(plan.request, plan.settings.timeoutMs);
    await this.record(name, r, plan.settings.retries);
    // A failed probe is retried at once (its timeout already spaced it): detection within interval + retries x timeout.
    const s = this.devices.get(name);
    this.schedule(name, !r.ok && s && s.oper !== 'down' ? 0 : plan.settings.intervalMs);
  }

  /** One probe now, outside the schedule (validate-service). */
  async probe(name: string): Promise<ProbeResult & { kind: CheckKind; skipped?: string }> {
    const d = this.device(name);
    if (!d) throw new VcnError('NO_SUCH_DEVICE', `device ${name} does not exist in the running configuration`);
    const plan = planProbe(this.config!, d, this.macs);
    if ('skip' in plan) return { ok: true, kind: plan.settings.kind, skipped: plan.skip };
    return { ...(await this.o.prober.probe(plan.request, plan.settings.timeoutMs)), kind: plan.settings.kind };
  }

  /** Checks a suspect device now: up to `retries` probes back to back; declared failed when all fail. */
  async checkNow(name: string, why: string): Promise<void> {
    const d = this.device(name);
    const s = this.devices.get(name);
    if (!d || !s || s.oper === 'down' || this.busy.has(name) || d['admin-state'] === 'maintenance') return;
    const plan = planProbe(this.config!, d, this.macs);
    if ('skip' in plan) return;
    this.busy.add(name);
    try {
      this.emit({ kind: 'device-suspect', subject: name, detail: { reason: why }, time: Date.now() });
      for (let i = 0; i < plan.settings.retries; i++) {
        const r = await this.o.prober.probe(plan.request, plan.settings.timeoutMs);
        await this.record(name, r, plan.settings.retries, why);
        if (r.ok || (s.oper as OperState) === 'down') break;
      }
    } finally {
      this.busy.delete(name);
    }
  }

  private async record(name: string, r: ProbeResult, retries: number, suspectWhy?: string): Promise<void> {
    const s = this.devices.get(name);
    if (!s) return;
    s.checks++;
    if (r.ok) {
      s.consecutiveFailures = 0;
      s.lastError = undefined;
      if (r.us !== undefined) {
        s.lastResponseUs = r.us;
        s.avgResponseUs = s.avgResponseUs === undefined ? r.us : Math.round(s.avgResponseUs + ALPHA * (r.us - s.avgResponseUs));
      }
      if (s.oper === 'down') {
        s.oper = 'up';
        s.lastChange = Date.now();
        this.emit({
          kind: 'device-up',
          subject: name,
          detail: { reason: s.failed ? 'answers again; stays out of service until failback' : 'answers again', responseUs: r.us },
          time: s.lastChange,
        });
      } else if (s.oper === 'unknown') {
        s.oper = 'up';
        s.lastChange = Date.now();
      }
      return;
    }
    s.consecutiveFailures++;
    s.lastError = r.error;
    if (s.consecutiveFailures < retries || s.oper === 'down') return;
    s.oper = 'down';
    s.failures++;
    s.lastChange = Date.now();
    this.emit({ kind: 'device-down', subject: name, detail: { reason: `${retries} probe(s) failed: ${r.error}${suspectWhy ? ` (suspect: ${suspectWhy})` : ''}` }, time: s.lastChange });
    if (!s.failed) await this.failover(name);
  }

  /** The failover commit: the running configuration with `name` out of service too. */
  private failover(name: string): Promise<void> {
    const run = this.commits.then(async () => {
      if (this.stopped) return;
      const before = this.runtime();
      const failed = new Set(before.failed ?? []);
      if (failed.has(name)) return;
      failed.add(name);
      const after: RuntimeState = { ...before, failed };
      const config = this.o.store.running({ readonly: true }).config;
      const impact = config ? healthImpact(config, before, after) : { moves: [], unavailable: [], restored: [] };
      const t0 = performance.now();
      let r: CommitResult;
      this.committing = true;
      try {
        r = await this.o.northbound.recompute(HEALTH, after, { kind: 'failover', comment: `failover: device ${name} failed` });
      } catch (e) {
        this.emit({ kind: 'failover-failed', subject: name, detail: { reason: (e as Error).message }, time: Date.now() });
        // Not failed over: the next failed probe tries again.
        const s = this.devices.get(name);
        if (s) s.oper = 'unknown';
        return;
      } finally {
        this.committing = false;
      }
      const commitMs = Math.round(performance.now() - t0);
      saveFailed(this.o.store, after.failed);
      const s = this.devices.get(name);
      if (s) s.failed = true;
      this.log(`health: device ${name} failed; commit ${r.commit.id} moved ${impact.moves.length} step(s) in ${commitMs} ms ${JSON.stringify(roundTimings(r.timings))} read ${Math.round(r.apply.readMs ?? 0)} ms`);
      for (const m of impact.moves) {
        this.emit({ kind: 'failover', subject: m.from, detail: { alternate: m.to, service: m.service, step: m.step, commit: r.commit.id, commitMs, timings: roundTimings(r.timings) }, time: Date.now() });
      }
      for (const u of impact.unavailable) this.emit({ kind: 'service-unavailable', subject: u.service, detail: { reason: u.reason, commit: r.commit.id }, time: Date.now() });
    });
    this.commits = run.catch(() => undefined);
    return run;
  }

  /** Operator: put a failed device back into service (one commit). Refused while it does not answer, unless forced. */
  async failback(name: string, actor: Actor, o: { force?: boolean } = {}): Promise<CommitResult> {
    const s = this.devices.get(name);
    const before = this.runtime();
    if (!before.failed?.has(name)) throw new VcnError('HEALTH_NOT_FAILED', `device ${name} is not failed over; nothing to fail back`);
    if (s && s.oper === 'down' && !o.force) throw new VcnError('HEALTH_DEVICE_DOWN', `device ${name} still fails its health check (${s.lastError ?? 'no answer'}); use force to fail back anyway`);
    const failed = new Set(before.failed);
    failed.delete(name);
    const after: RuntimeState = { ...before, failed };
    const config = this.o.store.running({ readonly: true }).config;
    const impact = config ? healthImpact(config, before, after) : { moves: [], unavailable: [], restored: [] };
    const run = this.commits.then(async () => {
      this.committing = true;
      try {
        return await this.o.northbound.recompute(actor, after, { kind: 'failback', comment: `failback: device ${name} back in service` });
      } finally {
        this.committing = false;
      }
    });
    this.commits = run.catch(() => undefined);
    const r = await run;
    saveFailed(this.o.store, after.failed);
    if (s) s.failed = false;
    this.emit({ kind: 'failback', subject: name, detail: { user: actor.user, commit: r.commit.id, services: impact.moves.map((m) => m.service) }, time: Date.now() });
    for (const m of impact.moves) this.emit({ kind: 'failover', subject: m.from, detail: { alternate: m.to, service: m.service, step: m.step, commit: r.commit.id, failback: true }, time: Date.now() });
    return r;
  }

  /** A leg's interface lost its carrier: probe the devices on it now. */
  private linkDown(ifname: string): void {
    for (const d of this.config?.devices.device ?? []) {
      if (d.leg.some((l) => l.interface === ifname)) void this.checkNow(d.name, `interface ${ifname} lost its carrier`);
    }
  }

  /**
   * An engine interface was made again: the loaded rules still forward to its
   * old index. Interfaces made again together (a driver reload) are collected
   * for a moment and answered by one reload of the data plane.
   */
  private linkRecreated(ifname: string): void {
    if (this.stopped || !this.config?.interfaces.interface.some((i) => i.name === ifname)) return;
    this.recreated.add(ifname);
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      const names = [...this.recreated].sort();
      this.recreated.clear();
      if (this.stopped) return;
      const why = `interface ${names.join(', ')} made again`;
      this.log(`health: ${why}: reloading the data plane`);
      this.commits = this.commits.then(() =>
        this.o.northbound.reload(why).then(
          (r) => this.log(`health: data plane reloaded in ${Math.round(r.readMs + r.applyMs)} ms (${r.carried} counters carried)`),
          (e: Error) => this.log(`health: data plane reload failed: ${e.message}`),
        ),
      );
    }, RELOAD_SETTLE_MS);
    this.reloadTimer.unref();
  }

  private async passiveCheck(): Promise<void> {
    const ruleset = this.o.datapath!.running();
    // Never more than one reading in flight: on a loaded machine a reading can take longer than the
    // period, and queued readings would delay the datapath's next apply (a failover) behind them.
    if (!ruleset || this.stopped || this.committing || this.reading) return;
    this.reading = true;
    let counters;
    try {
      counters = await this.o.datapath!.readCounters();
    } finally {
      this.reading = false;
    }
    const totals = flowTotals(ruleset, counters);
    const prev = this.lastTotals;
    this.lastTotals = totals;
    if (!prev) return;
    for (const d of suspects(prev, totals, this.unanswered)) {
      const s = this.devices.get(d);
      if (!s || s.oper === 'down' || s.kind === 'none') continue;
      void this.checkNow(d, `packets sent to ${d} without an answer`);
    }
  }

  private emit(e: HealthEvent): void {
    this.o.store.event(e.kind, e.subject, e.detail);
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch (err) {
        this.log(`health: listener: ${(err as Error).message}`);
      }
    }
  }
}
