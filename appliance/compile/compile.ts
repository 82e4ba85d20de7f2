/**
 * The compiler: a validated configuration (and the health state) → the
 * sequence table. Pure and deterministic: services in name order, ports in
 * number order, rows in the order a packet meets them.
 */
import { isIP } from 'node:net';
import type { Config, Service } from '../model/config.generated.js';
import { chainsOf, indexConfig, type ConfigIndex } from '../model/config-index.js';
import { destinationRows, sourceRows, type ResolvedStep, type UplinkEnd } from './chain-rows.js';
import { resolveCopies, resolveShare, resolveStep, type RuntimeState } from './resolve-step.js';
import type { PortMatch, Row, SequenceTable, ServicePolicy } from './sequence-table.js';

export type { RuntimeState } from './resolve-step.js';

/** The uplink a destination-keyed service's clients use: the named one, or the only one. */
export function uplinkOf(index: ConfigIndex, service: Service) {
  if (service.uplink) return index.interfaces.get(service.uplink);
  const uplinks = index.config.interfaces.interface.filter((i) => i.role === 'uplink');
  return uplinks.length === 1 ? uplinks[0] : undefined;
}

function resolveChain(index: ConfigIndex, steps: Service['port'][number]['step'], state: RuntimeState): ResolvedStep[] | string {
  const out: ResolvedStep[] = [];
  for (const step of steps) {
    const r = resolveStep(index, step, state);
    if ('unavailable' in r) return `step ${step.seq}: ${r.unavailable}`;
    const share = resolveShare(index, step, state);
    out.push({
      seq: step.seq,
      device: share ? share.members[0] : r.device,
      copies: resolveCopies(index, step, state),
      translatePort: step['translate-port'],
      outputPort: step['output-port'],
      share,
    });
  }
  return out;
}

export interface CompiledService {
  policy: ServicePolicy;
  rows: Row[];
}

export function compileService(index: ConfigIndex, service: Service, state: RuntimeState = {}): CompiledService {
  const keyed = service['source-keyed'];
  const address = keyed ? keyed['client-prefix'] : service['service-ip']!;
  const rows: Row[] = [];
  const resolved: Record<string, string> = {};
  const reasons: string[] = [];
  const ports: PortMatch[] = [];
  let clientInterface = '';

  if (keyed) {
    const client = index.devices.get(keyed['client-side'])!;
    const upstream = index.devices.get(keyed.upstream)!;
    clientInterface = client.leg[0].interface;
    const steps = resolveChain(index, chainsOf(service)[0].steps, state);
    if (typeof steps === 'string') reasons.push(steps);
    else {
      steps.forEach((s) => (resolved[String(s.seq)] = s.share ? s.share.members.map((d) => d.name).join(',') : s.device.name));
      rows.push(
        ...sourceRows({
          keyedBy: 'source',
          service: service.name,
          clientPrefix: address,
          protocol: keyed.protocol,
          client: { kind: 'device', device: client },
          upstream: { kind: 'device', device: upstream },
          steps,
        }),
      );
    }
  } else {
    const uplink = uplinkOf(index, service)!;
    clientInterface = uplink.name;
    const client: UplinkEnd = { kind: 'uplink', interface: uplink.name, gatewayIp: uplink.gateway.ip, gatewayMac: uplink.gateway.mac };
    for (const entry of [...service.port].sort((a, b) => a.port - b.port)) {
      const portEntry: PortMatch = entry.range ? { port: entry.port, range: { low: entry.range.low, high: entry.range.high } } : { port: entry.port };
      ports.push(portEntry);
      const steps = resolveChain(index, [...entry.step].sort((a, b) => a.seq - b.seq), state);
      if (typeof steps === 'string') {
        reasons.push(`port ${entry.port} ${steps}`);
        continue;
      }
      steps.forEach((s) => (resolved[`${entry.port}/${s.seq}`] = s.share ? s.share.members.map((d) => d.name).join(',') : s.device.name));
      rows.push(
        ...destinationRows({
          keyedBy: 'destination',
          service: service.name,
          serviceIp: address,
          portEntry,
          protocol: entry.protocol,
          client,
          steps,
        }),
      );
    }
  }

  const rate = service['rate-limit'];
  const policy: ServicePolicy = {
    service: service.name,
    customer: service.customer,
    keyedBy: keyed ? 'source' : 'destination',
    address,
    family: isIP(address.split('/')[0]) === 6 ? 6 : 4,
    clientInterface,
    ports,
    dscp: service.dscp,
    rateLimit: rate ? { packetsPerSecond: rate['packets-per-second'], burst: rate.burst } : undefined,
    acl: {
      defaultAction: service.acl['default-action'],
      rules: service.acl.rule.length ? [...service.acl.rule].sort((a, b) => a.seq - b.seq).map((r) => ({ seq: r.seq, action: r.action, source: r.source, count: r.count })) : [],
    },
    unavailable: reasons.length ? reasons.join('; ') : undefined,
    resolved,
  };
  return { policy, rows };
}

export function compile(config: Config, state: RuntimeState = {}): SequenceTable {
  const index = indexConfig(config);
  const table: SequenceTable = { rows: [], services: [] };
  const services = [...config.services.service].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const service of services) {
    const { policy, rows } = compileService(index, service, state);
    table.services.push(policy);
    for (const row of rows) table.rows.push(row);
  }
  return table;
}
