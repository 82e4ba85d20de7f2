/**
 * Semantic validation of a structurally valid configuration: the one place
 * where the rules that the schema cannot express live (SPEC §2–3). Every issue
 * has a code, the path of the node at fault and a message naming what to fix.
 */
import { isIP } from 'node:net';
import type { ErrorCode, ValidationIssue } from '../errors.js';
import type { Config, Device, Service } from '../model/config.generated.js';
import { chainsOf, indexConfig, stepPath, TERMINAL_MODES, type ConfigIndex } from '../model/config-index.js';
import { compileService, uplinkOf } from './compile.js';
import { addressesOverlap, addressSpan, describeKey, keysOverlap, portsOverlap } from './key-overlap.js';
import type { PortMatch, Row } from './sequence-table.js';

const MAC_DELIVERED = new Set(['loopback', 'alias', 'nat', 'server-ip']);
const familyOf = (addr: string) => isIP(addr.split('/')[0]);
const devicePath = (d: Device) => `/devices/device[name='${d.name}']`;

export function validateSemantics(config: Config): ValidationIssue[] {
  const index = indexConfig(config);
  const issues: ValidationIssue[] = [];
  const report = (code: ErrorCode, path: string, message: string) => issues.push({ code, path, message });

  for (const device of config.devices.device) checkDevice(index, device, report);
  for (const pool of config.pools.pool) {
    for (const name of pool.member) {
      const d = index.devices.get(name)!;
      if (d.function !== pool.function || (pool.vendor !== undefined && d.vendor !== pool.vendor)) {
        report('POOL_MISMATCH', `/pools/pool[name='${pool.name}']/member[.='${name}']`,
          `device ${name} (${d.function}${d.vendor ? `, ${d.vendor}` : ''}) cannot be a member of pool ${pool.name} (${pool.function}${pool.vendor ? `, ${pool.vendor}` : ''})`);
      }
    }
  }
  const keyOwners = new Map<string, Row[]>();
  const claimed = new Map<string, string>();
  const clientPrefixes: { service: string; prefix: string }[] = [];
  for (const service of config.services.service) {
    const before = issues.length;
    checkService(index, service, report);
    const address = service['service-ip'];
    if (address !== undefined) {
      const canonical = addressSpan(address).slice(1).join('-');
      const other = claimed.get(canonical);
      if (other) {
        report('DUPLICATE_SERVICE_ADDRESS', `/services/service[name='${service.name}']/service-ip`,
          `service IP ${address} is already the address of service ${other}`);
      } else claimed.set(canonical, service.name);
    }
    const keyed = service['source-keyed'];
    if (keyed) {
      const other = clientPrefixes.find((c) => addressesOverlap(c.prefix, keyed['client-prefix']));
      if (other) {
        report('DUPLICATE_SERVICE_ADDRESS', `/services/service[name='${service.name}']/source-keyed/client-prefix`,
          `client prefix ${keyed['client-prefix']} overlaps ${other.prefix} of service ${other.service}: a client would select two chains`);
      }
      clientPrefixes.push({ service: service.name, prefix: keyed['client-prefix'] });
    }
    // Ambiguity is only meaningful on chains that are otherwise sound.
    if (issues.length === before) checkAmbiguity(index, service, report, keyOwners);
  }
  return issues;
}

type Report = (code: ErrorCode, path: string, message: string) => void;

function checkDevice(index: ConfigIndex, d: Device, report: Report) {
  const mode = d['delivery-mode'];
  const path = devicePath(d);
  if (mode !== 'transparent' && d.leg.length !== 1) {
    report('LEG_COUNT', `${path}/leg`, `device ${d.name} in mode ${mode} attaches by exactly one leg, has ${d.leg.length}`);
  }
  for (const leg of d.leg) {
    const legPath = `${path}/leg[name='${leg.name}']`;
    if (index.interfaces.get(leg.interface)?.role === 'management') {
      report('LEG_ON_MANAGEMENT', `${legPath}/interface`, `leg ${leg.name} of ${d.name} is on management interface ${leg.interface}; use a device segment or the uplink`);
    }
    // A bridge leg can go without a MAC: the engine addresses the far side. A single leg cannot.
    if (!leg.mac && (MAC_DELIVERED.has(mode) || d.leg.length === 1) && !(mode === 'router' && d.ip)) {
      report('MAC_REQUIRED', `${legPath}/mac`, `device ${d.name} is reached by MAC (mode ${mode}, ${d.leg.length} leg) but leg ${leg.name} has no mac`);
    }
  }
  if ((mode === 'nat' || mode === 'server-ip') && !d.ip) {
    report('IP_REQUIRED', `${path}/ip`, `device ${d.name} in mode ${mode} needs its own ip`);
  }
}

function checkService(index: ConfigIndex, service: Service, report: Report) {
  const base = `/services/service[name='${service.name}']`;
  const keyed = service['source-keyed'];
  if (!keyed && service['service-ip'] === undefined) {
    report('SERVICE_SELECTOR_MISSING', `${base}/service-ip`, `service ${service.name} needs a service-ip (clients connect to it) or a source-keyed block (ISP mode)`);
    return;
  }
  const family = familyOf(keyed ? keyed['client-prefix'] : service['service-ip']!);
  const familyName = family === 6 ? 'IPv6' : 'IPv4';

  if (keyed) {
    const upstream = index.devices.get(keyed.upstream)!;
    if (upstream['delivery-mode'] !== 'router') {
      report('ROUTER_REQUIRED', `${base}/source-keyed/upstream`, `upstream ${upstream.name} is in mode ${upstream['delivery-mode']}; the last hop of a source-keyed chain must be a router`);
    }
    for (const end of [upstream, index.devices.get(keyed['client-side'])!]) {
      if (end.ip && !end.leg[0].mac && familyOf(end.ip) !== family) {
        report('MIXED_ADDRESS_FAMILY', `${base}/source-keyed`, `device ${end.name} is reached by its ${familyOf(end.ip) === 6 ? 'IPv6' : 'IPv4'} address ${end.ip} but the client prefix is ${familyName}`);
      }
    }
  } else {
    const uplink = uplinkOf(index, service);
    if (!uplink || uplink.role !== 'uplink') {
      const uplinks = index.config.interfaces.interface.filter((i) => i.role === 'uplink').map((i) => i.name);
      report('UPLINK_REQUIRED', `${base}/uplink`, service.uplink
        ? `interface ${service.uplink} is not an uplink (role ${uplink?.role})`
        : `service ${service.name} must name its uplink: there are ${uplinks.length} uplink interfaces${uplinks.length ? ` (${uplinks.join(', ')})` : ''}`);
    } else if (uplink.gateway.ip && !uplink.gateway.mac && familyOf(uplink.gateway.ip) !== family) {
      report('MIXED_ADDRESS_FAMILY', `${base}/service-ip`, `service IP ${service['service-ip']} is ${familyName} but uplink ${uplink.name} has only the gateway ${uplink.gateway.ip}; add its mac`);
    }
    if (service.port.length === 0) report('SCHEMA_MIN_ELEMENTS', `${base}/port`, `service ${service.name} has no service port`);
    checkPorts(service, base, report);
  }

  for (const rule of service.acl.rule) {
    if (familyOf(rule.source) !== family) {
      report('MIXED_ADDRESS_FAMILY', `${base}/acl/rule[seq='${rule.seq}']/source`, `ACL source ${rule.source} is not ${familyName} like the service address`);
    }
  }

  for (const chain of chainsOf(service)) {
    chain.steps.forEach((step, i) => {
      const path = stepPath(chain.path, step);
      const isLast = i === chain.steps.length - 1;
      const candidates = step.device !== undefined ? [index.devices.get(step.device)!] : index.pools.get(step.pool!)!.member.map((m) => index.devices.get(m)!);
      for (const d of candidates) {
        const mode = d['delivery-mode'];
        if (keyed && mode !== 'transparent') {
          report('STEP_NOT_LAST', path, `device ${d.name} (mode ${mode}) cannot be a step of a source-keyed chain: only transparent devices; the upstream router ends it`);
        } else if (!isLast && TERMINAL_MODES.has(mode)) {
          report('STEP_NOT_LAST', path, `device ${d.name} (mode ${mode}) ends a chain but step ${step.seq} is followed by step ${chain.steps[i + 1].seq}`);
        } else if (!keyed && isLast && !TERMINAL_MODES.has(mode)) {
          report('CHAIN_END_INVALID', path, `the last step (${d.name}, mode ${mode}) must deliver to a server (loopback, alias, nat, server-ip) or a router`);
        }
        if (mode === 'server-ip' && d.ip !== undefined && service['service-ip'] !== undefined &&
            addressSpan(d.ip).join() !== addressSpan(service['service-ip']).join()) {
          report('SERVER_IP_MISMATCH', path, `device ${d.name} is in mode server-ip with ip ${d.ip}, but the service IP is ${service['service-ip']}`);
        }
        if (mode === 'nat' && d.ip !== undefined && familyOf(d.ip) !== family) {
          report('MIXED_ADDRESS_FAMILY', path, `device ${d.name} has ${familyOf(d.ip) === 6 ? 'IPv6' : 'IPv4'} address ${d.ip} but service ${service.name} is ${familyName}`);
        }
      }
      if (step['translate-port'] !== undefined && (!isLast || keyed)) {
        report('TRANSLATE_NOT_LAST', `${path}/translate-port`, keyed
          ? 'a source-keyed chain carries any port: translate-port does not apply'
          : `translate-port is only allowed on the last step (step ${chain.steps[chain.steps.length - 1].seq})`);
      }
      if (step['output-port'] !== undefined && (isLast || keyed)) {
        report('TRANSLATE_NOT_LAST', `${path}/output-port`, keyed
          ? 'a source-keyed chain carries any port: output-port does not apply'
          : 'output-port names the port a device hands packets back on; the last step hands nothing on');
      }
      for (const name of step['copy-to']) {
        const tap = index.devices.get(name)!;
        if (tap['delivery-mode'] !== 'transparent') {
          report('TAP_MODE', `${path}/copy-to[.='${name}']`, `copy target ${name} is in mode ${tap['delivery-mode']}; a tap receives unmodified copies and must be transparent`);
        }
      }
    });
  }
}

function checkPorts(service: Service, base: string, report: Report) {
  const entries = [...service.port].sort((a, b) => a.port - b.port);
  for (const entry of entries) {
    const path = `${base}/port[port='${entry.port}']`;
    if (!entry.range) continue;
    if (entry.range.low > entry.range.high) {
      report('PORT_RANGE_INVALID', `${path}/range`, `range ${entry.range.low}-${entry.range.high} is empty: low must not exceed high`);
    }
    if (entry.step.some((s) => s['translate-port'] !== undefined || s['output-port'] !== undefined)) {
      report('PORT_RANGE_INVALID', `${path}/range`, 'a port that owns a dynamic range cannot be translated or changed by a device (translate-port, output-port)');
    }
  }
  const match = (e: Service['port'][number]): PortMatch => (e.range ? { port: e.port, range: e.range } : { port: e.port });
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const a = entries[i];
      const b = entries[j];
      const protocolsMeet = a.protocol === 'any' || b.protocol === 'any' || a.protocol === b.protocol;
      if (protocolsMeet && portsOverlap(match(a), match(b))) {
        const show = (e: typeof a) => `${e.port}${e.range ? ` (range ${e.range.low}-${e.range.high})` : ''}`;
        report('PORT_RANGE_OVERLAP', `${base}/port[port='${b.port}']`, `service port ${show(b)} overlaps service port ${show(a)} of ${service['service-ip']}`);
      }
    }
  }
}

/** Buckets rows by the exact parts of their key, so that rows of different services are compared in O(n). */
const bucketOf = (r: Row) =>
  `${r.receive.interface}|${r.receive.srcMac ?? ''}|${r.receive.direction}|${r.receive.dstIp !== undefined ? `d${r.receive.dstIp}` : `s${r.receive.srcIp}`}|${r.receive.port?.port ?? ''}`;

function checkAmbiguity(index: ConfigIndex, service: Service, report: Report, keyOwners: Map<string, Row[]>) {
  const { rows } = compileService(index, service, {});
  const pathOf = (row: Row) => {
    const chain = row.servicePort !== undefined ? `/services/service[name='${service.name}']/port[port='${row.servicePort}']` : `/services/service[name='${service.name}']/source-keyed`;
    return row.fromStep > 0 ? `${chain}/step[seq='${row.fromStep}']` : chain;
  };
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const a = rows[i];
      const b = rows[j];
      if (!keysOverlap(a.receive, b.receive)) continue;
      const where = (r: Row) => `${r.origin}${r.servicePort !== undefined && r.servicePort !== a.servicePort ? ` of port ${r.servicePort}` : ''}`;
      report('AMBIGUOUS_STEP', pathOf(b), `${where(a)} and ${where(b)} of service ${service.name} would have the same classification key ${describeKey(b.receive)}; give the device legs distinct interfaces or MACs`);
      return;
    }
  }
  // Across services: e.g. two services NAT to the same server address and port, so its replies cannot be told apart.
  for (const row of rows) {
    const bucket = bucketOf(row);
    const others = keyOwners.get(bucket) ?? [];
    const clash = others.find((o) => o.service !== row.service && keysOverlap(o.receive, row.receive));
    if (clash) {
      report('AMBIGUOUS_STEP', pathOf(row), `${row.origin} of service ${service.name} port ${row.servicePort ?? 'any'} and ${clash.origin} of service ${clash.service} port ${clash.servicePort ?? 'any'} would have the same classification key ${describeKey(row.receive)}; a stateless engine cannot tell their packets apart`);
      return;
    }
    others.push(row);
    keyOwners.set(bucket, others);
  }
}
