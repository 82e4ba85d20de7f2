/**
 * Starts health checking for the daemon (the one hook daemon.ts calls): the
 * L2 prober in the engine's namespace, the monitor, and its outputs — live
 * device state for the SNMP device table, NETCONF notifications and RPCs.
 */
import type { Datapath } from '../../appliance/datapath/datapath.js';
import type { FactsSource } from '../../appliance/engine.js';
import { Prober } from '../../appliance/health/prober.js';
import { traceFlow } from '../../appliance/datapath/nft-trace.js';
import type { Northbound } from '../northbound/northbound.js';
import type { NetconfServer } from '../netconf/server.js';
import { healthEventXml } from '../netconf/ops/health-rpcs.js';
import type { SnmpService } from '../snmp/snmp-service.js';
import type { DeviceHealth } from '../snmp/vcn-mib.js';
import type { Store } from '../store/store.js';
import { HealthMonitor } from './monitor.js';

export interface HealthDaemonOptions {
  /** Passive detection period (ms, default 1000; 0: off). */
  passiveMs?: number;
  watchMs?: number;
}

export async function startHealth(
  deps: { store: Store; northbound: Northbound; datapath: Datapath; facts: FactsSource; netns?: string; netconf?: NetconfServer; snmp?: SnmpService; log: (l: string) => void },
  o: HealthDaemonOptions,
): Promise<HealthMonitor> {
  const prober = new Prober({ netns: deps.netns, log: deps.log });
  const monitor = new HealthMonitor({ store: deps.store, northbound: deps.northbound, prober, facts: deps.facts, datapath: deps.datapath, log: deps.log, passiveMs: o.passiveMs, watchMs: o.watchMs, linkWatch: { netns: deps.netns } });
  monitor.trace = (client, serviceIp, ms) => {
    const config = deps.store.running({ readonly: true }).config;
    const interfaces = (config?.interfaces.interface ?? []).filter((i) => i.role !== 'management').map((i) => i.name);
    return traceFlow({ netns: deps.netns, interfaces, client, serviceIp, ms });
  };
  if (deps.netconf) {
    const server = deps.netconf;
    server.health = monitor;
    monitor.onEvent((e) => server.notifyAll(healthEventXml(e), new Date(e.time)));
  }
  deps.snmp?.useHealth(() => {
    const out = new Map<string, DeviceHealth>();
    for (const s of monitor.states()) {
      if (s.oper === 'unknown') continue;
      out.set(s.device, { oper: s.oper, lastChange: s.lastChange, failures: s.failures, lastResponseUs: s.avgResponseUs });
    }
    return out;
  });
  await monitor.start();
  return monitor;
}
