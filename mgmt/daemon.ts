/**
 * The appliance daemon: opens the store, loads the running configuration
 * into the kernel (in full, so the data plane matches the store whatever
 * happened before), re-arms a pending confirmed commit, and serves the
 * Northbound API. SIGTERM/SIGINT stop it cleanly (a pending confirmation
 * stays in the store and is honoured at the next start).
 *
 *   node --import tsx mgmt/daemon.ts --db /var/lib/vcn/vcn.db [--netns NS] [--table vcn] [--boot] [--stdio]
 *
 * --boot    load the startup configuration (as a commit) when it differs from running
 * --netconf-port N, --netconf-host ADDR, --netconf-socket PATH
 *           serve NETCONF over SSH and/or a local unix socket (mgmt/netconf); without
 *           --netconf-port the SSH port (and whether SSH is on) follows system/management/netconf
 * --snmp-dir DIR   SNMP: snmpd (config from system/snmp, in --netns when given) and the
 *           VCN-MIB AgentX subagent, with their files in DIR; runs while system/snmp is enabled
 * --names-dir DIR  service names and DHCP (dnsmasq, in --netns when given) from service-names and
 *           interface dhcp blocks, with its hosts and lease files in DIR; --names-listen ADDR (repeatable)
 *           answers there when service-names names no listen address; --names-port N (default 53)
 * --sample-every S  write an accounting sample (billing counters) every S seconds (default 60)
 * --compact-every S  move rows that commits put into overflow maps into the direct maps every S
 *           seconds (default 30; 0: only full applies do it; appliance/datapath/overflow.ts)
 * --netconf-max-message BYTES   the largest NETCONF message accepted (default 16 MiB)
 * --admin-password-file PATH
 *           while the store has no users, create `admin` with the password in PATH
 *           (the image's first-boot seed; there is no default password)
 * --health  health checks, passive detection and automatic failover (mgmt/health)
 * --stdio   a JSON-lines control channel on stdin/stdout onto the same Northbound
 *           methods (one session), for tests and local tooling until the NETCONF
 *           server serves this API
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { VcnError } from '../appliance/errors.js';
import { NftDriver, readInterfaceMacs } from '../appliance/datapath/nft-driver.js';
import type { Datapath } from '../appliance/datapath/datapath.js';
import type { FactsSource } from '../appliance/engine.js';
import { Store, type Client } from './store/store.js';
import { EngineDataplane } from './northbound/dataplane.js';
import { Northbound, type StartReport } from './northbound/northbound.js';
import { startNetconf, type NetconfOptions, type NetconfService } from './netconf/start.js';
import { Billing } from './accounting/billing.js';
import { AccountingSampler } from './accounting/sampler.js';
import { OverflowCompactor } from './northbound/compactor.js';
import { SnmpService, snmpEngineId, type SnmpOptions } from './snmp/snmp-service.js';
import { localizeUsmKeysTo } from './snmp/usm-keys.js';
import { NamesService, type NamesOptions } from './names/names-service.js';
import { startHealth, type HealthDaemonOptions } from './health/start.js';
import type { HealthMonitor } from './health/monitor.js';
import { restoreFailed } from './health/persist.js';
import { HeapSettle } from './heap-settle.js';

export interface DaemonOptions {
  db: string;
  netns?: string;
  table?: string;
  boot?: boolean;
  historyLimit?: number;
  /** Overrides for tests: another datapath and kernel facts. */
  datapath?: Datapath;
  facts?: FactsSource;
  log?: (line: string) => void;
  /** The NETCONF server (SSH and/or unix socket); none when absent. */
  netconf?: NetconfOptions;
  /** SNMP (snmpd + subagent) while system/snmp is enabled; none when absent. */
  snmp?: SnmpOptions;
  /** Service names and DHCP (dnsmasq); none when absent. */
  names?: NamesOptions;
  /** Accounting sample interval (ms; default: system/accounting/sample-interval of the running configuration; 0: no sampler). */
  sampleEveryMs?: number;
  /** How often rows that commits put into overflow maps move into the direct maps (ms, default 30000; 0: never between full applies). */
  compactEveryMs?: number;
  /** Health checking and failover (mgmt/health); off when absent. */
  health?: HealthDaemonOptions;
}

export interface Daemon {
  store: Store;
  northbound: Northbound;
  started: StartReport;
  netconf?: NetconfService;
  billing: Billing;
  sampler?: AccountingSampler;
  snmp?: SnmpService;
  names?: NamesService;
  health?: HealthMonitor;
  stop(): Promise<void>;
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`vcnd: ${line}\n`));
  const store = Store.open(opts.db, { historyLimit: opts.historyLimit });
  // SNMPv3 pass phrases are stored only as keys localized to this appliance's engine ID (mgmt/snmp/usm-keys.ts).
  localizeUsmKeysTo(snmpEngineId(store));
  const datapath = opts.datapath ?? new NftDriver({ netns: opts.netns, table: opts.table ?? 'vcn' });
  const facts: FactsSource = opts.facts ?? (async () => ({ interfaceMacs: await readInterfaceMacs(opts.netns) }));
  const heap = new HeapSettle({ log });
  const dataplane = new EngineDataplane({ datapath, facts, tableName: opts.table ?? 'vcn', log, afterWork: (n) => heap.afterWork(n) });
  const northbound = new Northbound({ store, dataplane, log });
  let started: StartReport;
  try {
    // Devices failed over before a restart stay out of service until an operator fails them back.
    if (opts.health) restoreFailed(store, northbound);
    started = await northbound.start({ boot: opts.boot });
  } catch (e) {
    datapath.close?.();
    store.close();
    heap.stop();
    throw e;
  }
  log(`started: running commit ${started.commit ?? 'none'} loaded from ${started.loaded}${started.error ? ` (data plane NOT loaded: ${started.error})` : ''}`);
  // ---- NETCONF: the northbound API (mgmt/netconf) ----
  let netconf: NetconfService | undefined;
  if (opts.netconf) {
    try {
      netconf = await startNetconf({ northbound, store, datapath, netns: opts.netns, log }, opts.netconf);
    } catch (e) {
      await northbound.stop();
      heap.stop();
      datapath.close?.();
      store.close();
      throw e;
    }
  }
  // ---- billing counters, accounting samples, SNMP (mgmt/accounting, mgmt/snmp) ----
  const billing = new Billing(store.db, datapath);
  // At system/accounting/sample-interval unless --sample-every fixes it (0: no sampling).
  const sampler = opts.sampleEveryMs !== 0 ? new AccountingSampler(store, billing, { everyMs: opts.sampleEveryMs, log }) : undefined;
  sampler?.start();
  const compactor = new OverflowCompactor(northbound, { everyMs: opts.compactEveryMs ?? 30_000, log });
  compactor.start();
  let snmp: SnmpService | undefined;
  if (opts.snmp) {
    snmp = new SnmpService({ store, datapath, billing, dataplaneLoaded: () => !started.error && datapath.running() !== undefined, log }, opts.snmp);
    try {
      await snmp.start();
    } catch (e) {
      // The appliance keeps running without SNMP; the next commit tries again.
      log(`snmp: cannot start: ${(e as Error).message}`);
    }
  }
  let names: NamesService | undefined;
  if (opts.names) {
    names = new NamesService({ store, log }, { netns: opts.netns, ...opts.names });
    // Like SNMP: the appliance keeps running without names; the watcher retries on the next commit.
    await names.start().catch((e: unknown) => log(`service names: cannot start: ${(e as Error).message}`));
  }
  // ---- health checking and failover (mgmt/health) ----
  const health = opts.health ? await startHealth({ store, northbound, datapath, facts, netns: opts.netns, netconf: netconf?.server, snmp, log }, opts.health) : undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await health?.stop();
      await names?.stop();
      await snmp?.stop();
      await sampler?.stop();
      await compactor.stop();
      // A last reading persists the counters' bases: after a reboot (kernel counters at zero) they continue from here.
      await billing.fresh().catch((e: Error) => log(`billing: last reading failed: ${e.message}`));
      await netconf?.stop();
      await northbound.stop();
      heap.stop();
      datapath.close?.();
      store.checkpoint();
      store.close();
    })());
  return { store, northbound, started, netconf, billing, sampler, snmp, names, health, stop };
}

/** Methods the control channel forwards to the Northbound, with the channel's session id prepended. */
const SESSION_METHODS = new Set([
  'getConfig',
  'setCandidate',
  'discardChanges',
  'validate',
  'commit',
  'confirm',
  'cancelCommit',
  'rollback',
  'compare',
  'copyRunningToStartup',
  'allocateServiceIp',
  'createServiceFromPackage',
]);
const PLAIN_METHODS = new Set(['history', 'runningCommit', 'pendingConfirm']);

function serveStdio(d: Daemon, user: string, client: Client): void {
  const nb = d.northbound;
  const session = nb.openSession(user, client);
  const send = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  send({ event: 'ready', pid: process.pid, session: session.id, started: d.started });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    let req: { id?: unknown; method?: string; params?: unknown[] };
    try {
      req = JSON.parse(line) as typeof req;
    } catch {
      send({ error: { code: 'CONFIG_READ', message: 'the request is not JSON' } });
      return;
    }
    const { id, method = '', params = [] } = req;
    const target = nb as unknown as Record<string, (...a: unknown[]) => unknown>;
    let call: () => unknown;
    if (method === 'memory') call = () => processMemory();
    else if (SESSION_METHODS.has(method)) call = () => target[method].call(nb, session.id, ...params);
    else if (PLAIN_METHODS.has(method)) call = () => target[method].call(nb, ...params);
    else {
      send({ id, error: { code: 'UNKNOWN_METHOD', message: `no method ${method}` } });
      return;
    }
    Promise.resolve()
      .then(call)
      .then(
        (result) => send({ id, result: result ?? null }),
        (e: unknown) =>
          send({ id, error: e instanceof VcnError ? { code: e.code, message: e.message, issues: e.issues } : { code: 'INTERNAL', message: (e as Error).message } }),
      );
  });
  rl.on('close', () => process.kill(process.pid, 'SIGTERM'));
}

/** Memory use in MB, after a full collection when the runtime allows one (--expose-gc): what the benchmarks report. */
function processMemory(): Record<string, number> {
  (globalThis as { gc?: () => void }).gc?.();
  const mb = (n: number) => Math.round(n / 1048576);
  const m = process.memoryUsage();
  return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external + m.arrayBuffers) };
}

function parseArgs(argv: string[]): DaemonOptions & { stdio: boolean; user: string } {
  const o: DaemonOptions & { stdio: boolean; user: string } = { db: '', stdio: false, user: 'admin' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--db') o.db = value();
    else if (a === '--netns') o.netns = value();
    else if (a === '--table') o.table = value();
    else if (a === '--history') o.historyLimit = Number(value());
    else if (a === '--user') o.user = value();
    else if (a === '--boot') o.boot = true;
    else if (a === '--stdio') o.stdio = true;
    else if (a === '--netconf-port') o.netconf = { ...o.netconf, ssh: { port: Number(value()), host: (o.netconf?.ssh || undefined)?.host } };
    else if (a === '--netconf-host') o.netconf = { ...o.netconf, ssh: { port: (o.netconf?.ssh || undefined)?.port, host: value() } };
    else if (a === '--netconf-socket') o.netconf = { ...o.netconf, unix: value() };
    else if (a === '--snmp-dir') o.snmp = { ...o.snmp, dir: value() };
    else if (a === '--names-dir') o.names = { ...o.names, dir: value() };
    else if (a === '--names-listen') o.names = { dir: '', ...o.names, defaultListen: [...(o.names?.defaultListen ?? []), value()] };
    else if (a === '--names-port') o.names = { dir: '', ...o.names, port: Number(value()) };
    else if (a === '--sample-every') o.sampleEveryMs = Number(value()) * 1000;
    else if (a === '--compact-every') o.compactEveryMs = Number(value()) * 1000;
    else if (a === '--netconf-max-message') o.netconf = { ...o.netconf, maxMessage: Number(value()) };
    else if (a === '--admin-password-file') o.netconf = { ...o.netconf, adminPassword: readFileSync(value(), 'utf8').replace(/\r?\n$/, '') };
    else if (a === '--health') o.health = {};
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.db) throw new Error('--db PATH is required');
  if (o.names && !o.names.dir) throw new Error('--names-listen and --names-port need --names-dir DIR');
  return o;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(
      `vcnd: ${(e as Error).message}\nusage: daemon.ts --db PATH [--netns NS] [--table NAME] [--history N] [--boot] [--stdio] [--user NAME] [--netconf-port N] [--netconf-host ADDR] [--netconf-socket PATH] [--netconf-max-message BYTES] [--snmp-dir DIR] [--names-dir DIR [--names-listen ADDR] [--names-port N]] [--sample-every S] [--compact-every S] [--admin-password-file PATH] [--health]\n`,
    );
    process.exit(2);
  }
  let d: Daemon;
  try {
    d = await startDaemon(args);
  } catch (e) {
    process.stderr.write(`vcnd: cannot start: ${e instanceof VcnError ? `${e.code} ` : ''}${(e as Error).message}\n`);
    process.exit(1);
  }
  const shutdown = (sig: string) => {
    process.stderr.write(`vcnd: ${sig}: stopping\n`);
    d.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`vcnd: stop failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (args.stdio) serveStdio(d, args.user, 'cli');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
