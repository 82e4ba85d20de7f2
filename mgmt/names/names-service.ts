/**
 * Service names and device discovery in the daemon: keeps dnsmasq in line
 * with the running configuration (service-names, interface dhcp blocks) by
 * watching the store's running commit id, like the SNMP service, so commits,
 * rollbacks and confirmed-commit reverts from any front end are seen; and
 * reports each new DHCP lease (a device appearing on a device segment) as a
 * `device-discovered` event, by watching dnsmasq's lease file.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import type { Store } from '../store/store.js';
import { DnsmasqProcess } from './dnsmasq-process.js';
import { dnsmasqPlan, hostsFile, leaseFile, parseLeases } from './dnsmasq-config.js';

export interface NamesOptions {
  /** Directory for the hosts and lease files. */
  dir: string;
  /** Run dnsmasq in this network namespace (the engine's). */
  netns?: string;
  /** Listen addresses when service-names names none. */
  defaultListen?: string[];
  /** DNS port (default 53). */
  port?: number;
  /** How often the running commit and the lease file are checked (ms, default 300). */
  watchMs?: number;
}

export class NamesService {
  readonly dnsmasq: DnsmasqProcess;
  private lastCommit: number | null | undefined = undefined;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly leases = new Set<string>();
  private stopped = false;

  constructor(
    private readonly ctx: { store: Store; log: (line: string) => void },
    private readonly o: NamesOptions,
  ) {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    this.dnsmasq = new DnsmasqProcess({ netns: o.netns, log: ctx.log });
    // Leases already known at start are not news.
    for (const l of this.readLeases()) this.leases.add(`${l.mac} ${l.ip}`);
  }

  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.tick(), this.o.watchMs ?? 300);
    this.timer.unref();
  }

  /** Apply the running configuration now (also called by RPCs after their commit, so answers change before they return). */
  sync(): Promise<void> {
    const run = async () => {
      const { id, config } = this.ctx.store.running({ readonly: true });
      // Same commit: nothing to do unless dnsmasq died (a start that failed waits for the next commit).
      if (id === this.lastCommit && (this.dnsmasq.running() || !this.needed || this.failed)) return;
      this.lastCommit = id;
      const plan = dnsmasqPlan(config, { dir: this.o.dir, defaultListen: this.o.defaultListen, port: this.o.port });
      this.needed = plan.needed;
      writeFileSync(hostsFile(this.o.dir), plan.hosts);
      if (!plan.needed) {
        await this.dnsmasq.stop();
        return;
      }
      this.failed = true;
      const how = await this.dnsmasq.ensure(plan.args);
      this.failed = false;
      this.ctx.log(`service names: ${how} for commit ${id}`);
    };
    this.queue = this.queue.then(run, run).catch((e: unknown) => this.ctx.log(`service names: ${(e as Error).message}`));
    return this.queue;
  }

  private needed = false;
  private failed = false;

  private async tick(): Promise<void> {
    if (this.stopped) return;
    await this.sync();
    for (const l of this.readLeases()) {
      const key = `${l.mac} ${l.ip}`;
      if (this.leases.has(key)) continue;
      this.leases.add(key);
      this.ctx.store.event('device-discovered', l.mac, { ip: l.ip, hostname: l.hostname, expires: new Date(l.expires * 1000).toISOString() });
      this.ctx.log(`discovery: ${l.mac} took ${l.ip}${l.hostname ? ` (${l.hostname})` : ''}`);
    }
  }

  private readLeases() {
    const f = leaseFile(this.o.dir);
    return existsSync(f) ? parseLeases(readFileSync(f, 'utf8')) : [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.queue;
    await this.dnsmasq.stop();
  }
}
